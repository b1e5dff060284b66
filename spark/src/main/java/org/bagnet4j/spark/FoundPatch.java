package org.bagnet4j.spark;

import java.io.Serializable;

/**
 * One patch found in a collection: its class's evidence, where it is, and its pixels (as the model saw them), so
 * that the driver can draw it without reading the image again.
 *
 * @param classIndex the class whose evidence this is
 * @param value the evidence of the patch's cell
 * @param file the image's id
 * @param x the cell's column in the grid
 * @param y the cell's row
 * @param box [x0, y0, x1, y1) in the model's input
 * @param width the crop's width (x1 - x0)
 * @param height the crop's height
 * @param rgb the crop's pixels, row-major RGB (gray where the box leaves the image)
 */
public record FoundPatch(int classIndex, float value, String file, int x, int y, int[] box, int width, int height,
        byte[] rgb) implements Serializable {
}
