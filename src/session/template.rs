//! Session templates: the live side of the face match built from several
//! good frames instead of one.
//!
//! A session embeds every few face frames (for the same-face check) anyway;
//! [`TemplateBuilder`] keeps the best of those embeddings by quality, and at
//! the verdict the template is the quality-weighted mean of the best frame's
//! embedding and the kept ones (re-normalised). Averaging several views of
//! one face cancels some of each frame's pose, blur and expression noise.
//! Capacity 1 is the single best frame.

use crate::error::Result;
use crate::matching::embed::Embedding;

/// Keeps the `capacity` best embedded frames of a session by quality.
#[derive(Debug, Clone)]
pub struct TemplateBuilder {
    capacity: usize,
    frames: Vec<(f32, Embedding)>,
}

impl TemplateBuilder {
    /// A builder that averages at most `capacity` frames (1 = best frame only).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            frames: Vec::new(),
        }
    }

    /// Offers one embedded frame of quality `quality` (0-100). Frames of
    /// non-finite or non-positive quality are ignored.
    pub fn push(&mut self, quality: f32, embedding: Embedding) {
        if !(quality.is_finite() && quality > 0.0) || self.capacity <= 1 {
            return;
        }
        self.frames.push((quality, embedding));
        self.frames.sort_by(|a, b| b.0.total_cmp(&a.0));
        self.frames.truncate(self.capacity - 1);
    }

    /// Frames kept (besides the best one given to [`TemplateBuilder::build`]).
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether no frame was kept.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The template: the quality-weighted mean of the best frame's embedding
    /// and the kept ones (a kept copy of the best frame counts once).
    pub fn build(&self, best_quality: f32, best: &Embedding) -> Result<Embedding> {
        if self.frames.is_empty() {
            return Ok(best.clone());
        }
        let mut sum: Vec<f32> = best
            .as_slice()
            .iter()
            .map(|x| x * best_quality.max(1e-3))
            .collect();
        for (q, e) in self.frames.iter().filter(|(_, e)| e != best) {
            if e.dim() != best.dim() {
                continue;
            }
            for (s, x) in sum.iter_mut().zip(e.as_slice()) {
                *s += q * x;
            }
        }
        Embedding::from_raw(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(v: &[f32]) -> Embedding {
        Embedding::from_raw(v.to_vec()).expect("embedding")
    }

    #[test]
    fn keeps_the_best_and_weights_by_quality() {
        let mut t = TemplateBuilder::new(3);
        t.push(10.0, e(&[0.0, 1.0]));
        t.push(90.0, e(&[1.0, 0.0]));
        t.push(50.0, e(&[0.0, 1.0]));
        t.push(f32::NAN, e(&[-1.0, 0.0]));
        assert_eq!(t.len(), 2, "capacity 3 = best + 2 kept");
        let best = e(&[1.0, 0.0]);
        // the kept copy of the best frame counts once: 90 * x + 50 * y
        let got = t.build(90.0, &best).expect("template");
        let want = e(&[90.0, 50.0]);
        assert!(got.similarity(&want).expect("dim") > 0.99999);
    }

    #[test]
    fn capacity_one_is_the_best_frame() {
        let mut t = TemplateBuilder::new(1);
        t.push(99.0, e(&[0.0, 1.0]));
        assert!(t.is_empty());
        let best = e(&[0.6, 0.8]);
        assert_eq!(t.build(50.0, &best).expect("template"), best);
    }
}
