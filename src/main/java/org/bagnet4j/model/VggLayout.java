package org.bagnet4j.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bagnet4j.VggConfig;

/**
 * torchvision's VGG as its layers, in state_dict order: the one description from which the file's names and
 * shapes are checked and the network is built.
 *
 * @param features each feature layer: a 3x3 convolution (ReLU after it), or null for a 2x2 max pool
 * @param classifier fc6, fc7, fc8 ({@code classifier.0/3/6}); fc6 reads the 7x7 map flattened channel-major
 */
public record VggLayout(List<ConvSpec> features, List<ConvSpec> classifier, int featureChannels) {
    public static VggLayout of(VggConfig c) {
        List<ConvSpec> features = new ArrayList<>();
        int index = 0;
        int in = c.inChannels();
        for (int layer : c.layers()) {
            if (layer == VggConfig.POOL) {
                features.add(null);
                index++;
                continue;
            }
            String norm = c.batchNorm() ? "features." + (index + 1) : null;
            features.add(new ConvSpec("features." + index, norm, true, false, in, layer, 3, 1, 1));
            index += c.batchNorm() ? 3 : 2;
            in = layer;
        }
        int side = VggConfig.POOLED_SIDE;
        List<ConvSpec> classifier = List.of(ConvSpec.linear("classifier.0", side * side * in, c.hidden()),
                ConvSpec.linear("classifier.3", c.hidden(), c.hidden()),
                ConvSpec.linear("classifier.6", c.hidden(), c.numClasses()));
        return new VggLayout(Collections.unmodifiableList(features), classifier, in);
    }

    public Map<String, int[]> tensorShapes() {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (ConvSpec conv : features) {
            if (conv != null) {
                conv.addShapes(shapes);
            }
        }
        classifier.forEach(fc -> fc.addShapes(shapes));
        return shapes;
    }
}
