//! A certifyId's stored reference: its embedding and the matcher that made
//! it. Embeddings of different matchers never compare, so a reference made
//! before the server's matcher changed is refused with its own cause
//! (`reference.matcher_changed`), never compared across models.

use realface::embed::Embedding;
use realface::Matcher;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, Code};

#[derive(Serialize, Deserialize)]
struct Stored {
    matcher: String,
    embedding: Embedding,
}

/// The stored form of `embedding`, made by `matcher`.
pub fn encode(matcher: Matcher, embedding: Embedding) -> ApiResult<String> {
    serde_json::to_string(&Stored {
        matcher: matcher.name().to_string(),
        embedding,
    })
    .map_err(|e| ApiError::internal("reference", e))
}

/// The embedding stored as `text`, if `matcher` (the server's now) made
/// it. A bare array (rows written before the matcher was stored) is taken
/// when its length is the matcher's: every matcher's length differs.
pub fn decode(text: &str, matcher: Matcher) -> ApiResult<Embedding> {
    let changed = |made: &str| {
        ApiError::new(
            Code::Internal,
            "reference.matcher_changed",
            format!(
                "this certifyId's reference was made by the {made} matcher and the server now compares with {}; issue a new certifyId",
                matcher.name()
            ),
        )
    };
    if let Ok(s) = serde_json::from_str::<Stored>(text) {
        if s.matcher != matcher.name() {
            return Err(changed(&s.matcher));
        }
        return Ok(s.embedding);
    }
    let e: Embedding =
        serde_json::from_str(text).map_err(|e| ApiError::internal("reference", e))?;
    if e.dim() != matcher.dim() {
        return Err(changed(&format!("{}-value", e.dim())));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(dim: usize) -> Embedding {
        Embedding::from_raw(vec![0.5; dim]).expect("embedding")
    }

    #[test]
    fn a_reference_opens_only_under_its_own_matcher() {
        let fused = Matcher::Fused;
        let text = encode(fused, unit(fused.dim())).expect("encode");
        assert_eq!(
            decode(&text, fused).expect("same matcher").dim(),
            fused.dim()
        );
        let err = decode(&text, Matcher::W600kMbf).expect_err("another matcher");
        assert_eq!(
            err.cause.map(|c| c.code),
            Some("reference.matcher_changed".into())
        );
        // rows from before the matcher was stored: by their length
        let bare = serde_json::to_string(&unit(fused.dim())).expect("json");
        assert!(decode(&bare, fused).is_ok());
        assert!(decode(&bare, Matcher::MobileFaceNet).is_err());
        assert!(decode("not json", fused).is_err());
    }
}
