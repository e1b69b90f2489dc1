//! SSD anchors for BlazeFace, as MediaPipe's `SsdAnchorsCalculator` builds them
//! with `fixed_anchor_size: true` (every anchor is 1x1 in normalised units, so
//! only centres matter). Pure code.

/// An anchor centre in normalised input coordinates (0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    /// Centre x.
    pub x: f32,
    /// Centre y.
    pub y: f32,
}

/// Anchor layout of one BlazeFace variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorLayout {
    /// Square input size in pixels.
    pub input_size: u32,
    /// Stride of each SSD layer.
    pub strides: &'static [u32],
    /// Anchors per cell each layer contributes.
    pub anchors_per_layer: u32,
}

/// Short range: 128x128, strides 8,16,16,16, two anchors per layer and cell
/// (aspect 1 plus the interpolated scale) -> 16*16*2 + 8*8*6 = 896 anchors.
pub const SHORT_RANGE: AnchorLayout = AnchorLayout {
    input_size: 128,
    strides: &[8, 16, 16, 16],
    anchors_per_layer: 2,
};

/// Full range: 192x192, one layer of stride 4, one anchor per cell -> 48*48 = 2304.
pub const FULL_RANGE: AnchorLayout = AnchorLayout {
    input_size: 192,
    strides: &[4],
    anchors_per_layer: 1,
};

/// Generates the anchors in the order the model emits its predictions: layers
/// with the same stride are merged; within a group, row-major cells, and all
/// anchors of a cell together.
pub fn generate(layout: &AnchorLayout) -> Vec<Anchor> {
    let mut anchors = Vec::new();
    let mut i = 0;
    while i < layout.strides.len() {
        let stride = layout.strides[i];
        let mut repeats = 0;
        while i < layout.strides.len() && layout.strides[i] == stride {
            repeats += layout.anchors_per_layer;
            i += 1;
        }
        let fm = layout.input_size.div_ceil(stride);
        for y in 0..fm {
            for x in 0..fm {
                let a = Anchor {
                    x: (x as f32 + 0.5) / fm as f32,
                    y: (y as f32 + 0.5) / fm as f32,
                };
                anchors.extend(std::iter::repeat_n(a, repeats as usize));
            }
        }
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_range_has_896_anchors_in_model_order() {
        let a = generate(&SHORT_RANGE);
        assert_eq!(a.len(), 896);
        assert_eq!(
            a[0],
            Anchor {
                x: 0.5 / 16.0,
                y: 0.5 / 16.0
            }
        );
        assert_eq!(a[1], a[0]);
        assert_eq!(
            a[2],
            Anchor {
                x: 1.5 / 16.0,
                y: 0.5 / 16.0
            }
        );
        // first anchor of the stride-16 group, then six identical ones per cell
        assert_eq!(
            a[512],
            Anchor {
                x: 0.5 / 8.0,
                y: 0.5 / 8.0
            }
        );
        assert_eq!(a[517], a[512]);
        assert_eq!(
            a[518],
            Anchor {
                x: 1.5 / 8.0,
                y: 0.5 / 8.0
            }
        );
        assert_eq!(
            a[895],
            Anchor {
                x: 7.5 / 8.0,
                y: 7.5 / 8.0
            }
        );
    }

    #[test]
    fn full_range_has_2304_anchors() {
        let a = generate(&FULL_RANGE);
        assert_eq!(a.len(), 2304);
        assert_eq!(
            a[48],
            Anchor {
                x: 0.5 / 48.0,
                y: 1.5 / 48.0
            }
        );
    }
}
