package org.bagnet4j.explain;

/**
 * The |value| that gets full colour in each of a heatmap's two panels: the evidence, and the evidence relative to
 * the mean cell. Each is the 99th percentile of the map's |value| (as in the reference's plots), so that a few
 * extreme cells do not wash out the rest; 1 where that is 0 (a map of zeros, or the relative panel of a constant
 * map), which leaves such a panel white.
 *
 * @param evidence full colour in the evidence panel
 * @param relative full colour in the panel relative to the mean cell
 * @param sharedBy the maps that share this scale, for the legend; null when it is one map's own
 */
public record HeatmapScale(float evidence, float relative, String sharedBy) {
    /** A map's own scale. */
    public static HeatmapScale of(EvidenceMap map) {
        return shared(null, map);
    }

    /** One scale for maps drawn to be compared: each panel's is the largest of theirs, so equal values look equal. */
    public static HeatmapScale shared(String sharedBy, EvidenceMap... maps) {
        float evidence = 0;
        float relative = 0;
        for (EvidenceMap map : maps) {
            evidence = Math.max(evidence, map.absPercentile(99));
            relative = Math.max(relative, map.relativeToMean().absPercentile(99));
        }
        return new HeatmapScale(evidence > 0 ? evidence : 1, relative > 0 ? relative : 1, sharedBy);
    }
}
