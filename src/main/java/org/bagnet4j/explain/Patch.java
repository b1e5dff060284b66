package org.bagnet4j.explain;

/**
 * One image patch and the evidence it gives a class.
 *
 * @param source the image it comes from (a file name, or empty)
 * @param x map column
 * @param y map row
 * @param value the class logit of this patch
 * @param box where the patch lies in the model's input
 */
public record Patch(String source, int x, int y, float value, EvidenceMap.Box box) {
}
