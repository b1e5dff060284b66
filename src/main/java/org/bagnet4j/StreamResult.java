package org.bagnet4j;

import java.util.List;

import org.bagnet4j.explain.Patch;
import org.bagnet4j.tensor.Tensor;

/**
 * What a streamed pass gives.
 *
 * @param scores the image's class scores (logits), the mean over all grid cells
 * @param gridHeight grid rows
 * @param gridWidth grid columns
 * @param classes the classes chosen in the request, in order
 * @param grid the chosen classes' evidence per cell, [1, gridHeight, gridWidth, classes], or null unless kept
 * @param top per chosen class, its strongest patches, strongest first (empty lists unless asked)
 * @param bottom per chosen class, its most negative patches, most negative first (empty lists unless asked)
 * @param tileSize the longer side of the input tiles used, in pixels
 */
public record StreamResult(float[] scores, int gridHeight, int gridWidth, int[] classes, Tensor grid,
        List<List<Patch>> top, List<List<Patch>> bottom, int tileSize) {
}
