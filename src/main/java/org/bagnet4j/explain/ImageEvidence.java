package org.bagnet4j.explain;

import org.bagnet4j.BagNet;
import org.bagnet4j.Cnn;
import org.bagnet4j.Model;
import org.bagnet4j.StreamResult;
import org.bagnet4j.tensor.Tensor;

/**
 * One image's class scores and the evidence map of any class: a BagNet's patch grid, or a ResNet's or DenseNet's
 * class activation map. When maps are wanted and a BagNet runs the image whole, the scores and every class's grid
 * come from one pass.
 */
public final class ImageEvidence {
    private final Model model;
    private final Tensor input;
    private final float[] scores;
    /** Every class's patch grid from the scores' pass, or null. */
    private final StreamResult allGrids;

    private ImageEvidence(Model model, Tensor input, float[] scores, StreamResult allGrids) {
        this.model = model;
        this.input = input;
        this.scores = scores;
        this.allGrids = allGrids;
    }

    /** The scores of one image ([1, h, w, c]), ready to give maps in the same pass when {@code maps} says so. */
    public static ImageEvidence of(Model model, Tensor input, boolean maps) {
        if (maps && model instanceof BagNet bagNet && bagNet.runsWhole(1, input.height(), input.width())) {
            StreamResult all = Explainer.scoresAndGrids(bagNet, input);
            return new ImageEvidence(model, input, all.scores(), all);
        }
        return new ImageEvidence(model, input, model.classScores(input)[0], null);
    }

    public float[] scores() {
        return scores;
    }

    /** The evidence map of a class (a CNN without a class activation map refuses). */
    public EvidenceMap map(int classIndex) {
        return switch (model) {
            case BagNet b -> allGrids != null ? Explainer.fromLogits(b, allGrids.grid(), classIndex)
                    : Explainer.grid(b, input, classIndex);
            case Cnn cnn -> Explainer.activationMap(cnn, input, classIndex);
        };
    }
}
