package org.bagnet4j;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A test that needs Debian's reference tools: PyTorch (for its reference outputs or the converter) or the
 * Fashion-MNIST test set. Tagged {@code reference}; {@link ReferenceCondition} skips it where they are missing.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("reference")
@ExtendWith(ReferenceCondition.class)
public @interface RequiresReference {
}
