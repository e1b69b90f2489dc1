//! Weighted non-maximum suppression (MediaPipe's `WEIGHTED` algorithm): the
//! detections overlapping the best one by more than the IoU threshold are
//! merged into it, box and keypoints averaged with the scores as weights.
//! Detections with NaN or infinite scores or boxes are dropped first. Pure code.

use crate::imaging::geometry::{BBox, Point};

/// A raw detection in normalised input coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct RawDetection {
    /// Box (normalised).
    pub bbox: BBox,
    /// Score 0..1.
    pub score: f32,
    /// Six keypoints (normalised).
    pub keypoints: [Point; 6],
}

impl RawDetection {
    fn is_finite(&self) -> bool {
        self.score.is_finite()
            && [self.bbox.x, self.bbox.y, self.bbox.w, self.bbox.h]
                .iter()
                .all(|v| v.is_finite())
            && self
                .keypoints
                .iter()
                .all(|p| p.x.is_finite() && p.y.is_finite())
    }
}

/// Weighted NMS; the result is sorted by descending score.
pub fn weighted_nms(mut dets: Vec<RawDetection>, iou_threshold: f32) -> Vec<RawDetection> {
    dets.retain(RawDetection::is_finite);
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    let mut remaining = dets;
    while let Some(best) = remaining.first().cloned() {
        let (cluster, rest): (Vec<_>, Vec<_>) = remaining
            .into_iter()
            .partition(|d| best.bbox.iou(&d.bbox) > iou_threshold || *d == best);
        remaining = rest;
        let total: f32 = cluster.iter().map(|d| d.score).sum();
        if total <= 0.0 {
            out.push(best);
            continue;
        }
        let mut merged = RawDetection {
            bbox: BBox::default(),
            score: best.score,
            keypoints: [Point::default(); 6],
        };
        for d in &cluster {
            let w = d.score / total;
            merged.bbox.x += d.bbox.x * w;
            merged.bbox.y += d.bbox.y * w;
            merged.bbox.w += d.bbox.w * w;
            merged.bbox.h += d.bbox.h * w;
            for (m, k) in merged.keypoints.iter_mut().zip(&d.keypoints) {
                m.x += k.x * w;
                m.y += k.y * w;
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, score: f32) -> RawDetection {
        RawDetection {
            bbox: BBox {
                x,
                y: 0.0,
                w: 1.0,
                h: 1.0,
            },
            score,
            keypoints: [Point::new(x, 0.0); 6],
        }
    }

    #[test]
    fn merges_overlaps_weighted() {
        let out = weighted_nms(vec![det(0.0, 0.9), det(0.1, 0.3), det(5.0, 0.8)], 0.3);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        let want = (0.0 * 0.9 + 0.1 * 0.3) / 1.2;
        assert!((out[0].bbox.x - want).abs() < 1e-6);
        assert!((out[0].keypoints[3].x - want).abs() < 1e-6);
        assert_eq!(out[1].bbox.x, 5.0);
    }

    #[test]
    fn nan_scores_and_boxes_are_dropped_not_panicking() {
        let mut bad = det(0.0, 0.7);
        bad.bbox.w = f32::NAN;
        let out = weighted_nms(vec![det(0.0, f32::NAN), bad, det(3.0, 0.6)], 0.3);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].score, 0.6);
        assert!(weighted_nms(vec![], 0.3).is_empty());
    }

    #[test]
    fn identical_boxes_collapse_to_one() {
        let out = weighted_nms(vec![det(1.0, 0.5), det(1.0, 0.5), det(1.0, 0.5)], 0.3);
        assert_eq!(out.len(), 1);
        assert!((out[0].bbox.x - 1.0).abs() < 1e-6);
    }
}
