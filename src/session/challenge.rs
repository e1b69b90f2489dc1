//! The challenge: which actions the user must perform, in which order. A
//! random challenge is drawn from sha256(certifyId, nonce), so the issuer
//! (a server) knows it in advance and can re-check it, while a pre-recorded
//! video is unlikely to contain the same sequence.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::liveness::actions::Action;
use crate::rng::SplitMix;

/// How the actions are chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeSpec {
    /// These actions, in this order (single-action mode is a list of one).
    Fixed(Vec<Action>),
    /// This many actions drawn at random from the certifyId's seed.
    Random(usize),
}

/// Most actions a challenge may ask for.
pub const MAX_ACTIONS: usize = 5;

/// The seed of a certifyId's challenge.
pub fn seed(certify_id: &str, nonce: &str) -> u64 {
    let d = Sha256::new()
        .chain_update(b"realface-challenge\0")
        .chain_update(certify_id)
        .chain_update([0])
        .chain_update(nonce)
        .finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The actions of a challenge. Random challenges never repeat an action
/// back to back and never ask for both turns in a row.
pub fn actions(spec: &ChallengeSpec, seed: u64) -> Result<Vec<Action>> {
    match spec {
        ChallengeSpec::Fixed(list) => {
            if list.is_empty() || list.len() > MAX_ACTIONS {
                return Err(Error::invalid(
                    "actions",
                    format!("{} actions; 1..={MAX_ACTIONS} allowed", list.len()),
                ));
            }
            Ok(list.clone())
        }
        ChallengeSpec::Random(n) => draw(&Action::ALL, *n, seed),
    }
}

/// `n` actions drawn from `pool` with `seed` (a server that restricts the
/// actions it asks for). Never the same action back to back, never both
/// turns in a row; a pool that cannot give `n` such actions (one action and
/// `n > 1`, say) is [`Error::InvalidArgument`].
pub fn draw(pool: &[Action], n: usize, seed: u64) -> Result<Vec<Action>> {
    if n == 0 || n > MAX_ACTIONS {
        return Err(Error::invalid(
            "actions",
            format!("{n} random actions; 1..={MAX_ACTIONS} allowed"),
        ));
    }
    let turn = |x: Action| matches!(x, Action::TurnLeft | Action::TurnRight);
    let follows = |l: Action, a: Action| l != a && !(turn(l) && turn(a));
    let can_follow = |l: Action| pool.iter().any(|&a| follows(l, a));
    if pool.is_empty() || (n > 1 && !pool.iter().any(|&l| can_follow(l))) {
        return Err(Error::invalid(
            "actions",
            format!("{n} actions cannot be drawn from {pool:?} without repeats"),
        ));
    }
    let mut rng = SplitMix::new(seed);
    let mut out: Vec<Action> = Vec::with_capacity(n);
    while out.len() < n {
        // restart a draw that ran into a dead end (a pool of both turns only)
        if out.last().is_some_and(|&l| !can_follow(l)) {
            out.clear();
        }
        let a = pool[(rng.next_u64() % pool.len() as u64) as usize];
        if out.last().is_some_and(|&l| !follows(l, a)) {
            continue;
        }
        out.push(a);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_challenges_are_seeded_and_varied() {
        let a = actions(&ChallengeSpec::Random(3), seed("id1", "n")).expect("ok");
        let b = actions(&ChallengeSpec::Random(3), seed("id1", "n")).expect("ok");
        assert_eq!(a, b);
        let distinct: std::collections::HashSet<Vec<Action>> = (0..50)
            .map(|i| actions(&ChallengeSpec::Random(3), seed(&format!("id{i}"), "n")).expect("ok"))
            .collect();
        assert!(distinct.len() > 20);
        for w in a.windows(2) {
            assert_ne!(w[0], w[1]);
        }
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!(actions(&ChallengeSpec::Fixed(vec![]), 0).is_err());
        assert!(actions(&ChallengeSpec::Random(0), 0).is_err());
        assert!(actions(&ChallengeSpec::Random(9), 0).is_err());
        assert!(draw(&[Action::Blink], 2, 0).is_err());
        assert!(draw(&[Action::TurnLeft, Action::TurnRight], 2, 0).is_err());
        assert!(draw(&[], 1, 0).is_err());
        assert_eq!(draw(&[Action::Blink], 1, 7).expect("one"), [Action::Blink]);
        let two = draw(&[Action::Blink, Action::Nod], 2, 3).expect("two");
        assert_ne!(two[0], two[1]);
    }
}
