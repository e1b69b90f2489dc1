//! A simulated person who answers prompts: frames of a quiet stretch of a
//! real clip while the session says "Hold still", and a real recorded answer
//! (a slow blink, a turn, an opening of the mouth) started a reaction time
//! after each prompt. Tests and demos use it to drive sessions whose prompt
//! schedule is drawn from a nonce (a server's capture, the C ABI, the
//! desktop app), which a plain recording cannot answer.
//!
//! Every frame is a real camera frame of one person; only the order in time
//! is arranged, exactly as a live person arranges it by answering.

use image::RgbImage;

use crate::liveness::actions::Action;
use crate::session::prompt::Schedule;
use crate::session::result::AuthResult;
use crate::session::VerificationSession;
use crate::source::TimedFrame;

/// A recorded answer: its frames and where in them the action starts.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The action it answers.
    pub action: Action,
    /// Its frames, from a little before the action to after it.
    pub frames: Vec<RgbImage>,
    /// Index of the frame where the action starts.
    pub onset: usize,
}

impl Answer {
    /// The frames of `clip` (timestamps on its clock) from `lead_ms` before
    /// `onset_ms` to `after_ms` after it.
    pub fn from_clip(
        action: Action,
        clip: &[TimedFrame],
        onset_ms: u64,
        lead_ms: u64,
        after_ms: u64,
    ) -> Self {
        let from = onset_ms.saturating_sub(lead_ms);
        let frames: Vec<&TimedFrame> = clip
            .iter()
            .filter(|f| f.t_ms >= from && f.t_ms <= onset_ms + after_ms)
            .collect();
        let onset = frames.iter().position(|f| f.t_ms >= onset_ms).unwrap_or(0);
        Self {
            action,
            frames: frames.into_iter().map(|f| f.image.clone()).collect(),
            onset,
        }
    }
}

/// How long after a release cue the person lets go (ms): a simple reaction
/// to a tone or to the ring filling up.
pub const RELEASE_REACTION_MS: u64 = 300;

/// The person.
#[derive(Debug, Clone)]
pub struct Puppet {
    /// Quiet frames, played forwards and backwards while holding still.
    pub rest: Vec<RgbImage>,
    /// The recorded answers, one per action it can perform.
    pub answers: Vec<Answer>,
    /// Frame interval (ms).
    pub frame_ms: u64,
    /// The answer's onset comes this long after the prompt (ms).
    pub reaction_ms: u64,
}

impl Puppet {
    /// The rest frames of `clip` between `from_ms` and `to_ms`.
    pub fn rest_from_clip(clip: &[TimedFrame], from_ms: u64, to_ms: u64) -> Vec<RgbImage> {
        clip.iter()
            .filter(|f| f.t_ms >= from_ms && f.t_ms <= to_ms)
            .map(|f| f.image.clone())
            .collect()
    }

    fn rest_frame(&self, k: usize) -> Option<&RgbImage> {
        let n = self.rest.len();
        if n < 2 {
            return self.rest.first();
        }
        let period = 2 * (n - 1);
        let i = k % period;
        self.rest.get(if i < n { i } else { period - i })
    }

    /// Feeds `session` frames from `t0_ms` until it finishes or `max_ms` of
    /// frames were given; every prompt the session shows is answered with
    /// the recorded answer of its action, its onset `reaction_ms` after the
    /// prompt. An answer the session asks to hold (its `Progress` timer
    /// says so) is held at the frame that reached the full level until
    /// [`RELEASE_REACTION_MS`] after the release cue, then played back to
    /// rest (its approach in reverse), as a person lets go when the ring is
    /// full. Returns the result ([`VerificationSession::finish`]).
    pub fn perform(
        &self,
        session: &mut VerificationSession,
        t0_ms: u64,
        max_ms: u64,
    ) -> AuthResult {
        self.perform_recorded(session, &[], t0_ms, max_ms, false).0
    }

    /// [`Puppet::perform`], first showing the `settle` frames (a person
    /// still settling in, not at rest: a prompt due then is postponed);
    /// with `keep`, also the frames it fed (a camera's recording of the
    /// person, for a browser's fake camera).
    pub fn perform_recorded(
        &self,
        session: &mut VerificationSession,
        settle: &[RgbImage],
        t0_ms: u64,
        max_ms: u64,
        keep: bool,
    ) -> (AuthResult, Vec<TimedFrame>) {
        let mut fed = Vec::new();
        let step = self.frame_ms.max(1);
        let mut t = t0_ms;
        let mut k = 0usize;
        // the answer being played and when it started
        let mut playing: Option<(&Answer, u64)> = None;
        // a held answer: its frame index and when to let go; then the
        // return: from which index and since when
        let mut held: Option<(usize, u64)> = None;
        let mut returning: Option<(usize, u64)> = None;
        let mut shown = 0usize;
        let mut answered_prompt: Option<u64> = None;
        let mut pending: Option<(&Answer, u64)> = None;
        while !session.is_finished() && t <= t0_ms + max_ms {
            if let Some((i, resume)) = held {
                if t >= resume {
                    held = None;
                    returning = Some((i, t));
                }
            }
            let frame = match (playing, held, returning) {
                (Some((a, _)), Some((i, _)), _) => a.frames.get(i),
                (Some((a, _)), None, Some((i, since))) => {
                    let back = ((t - since) / step) as usize;
                    match i.checked_sub(back).and_then(|j| a.frames.get(j)) {
                        Some(f) => Some(f),
                        None => {
                            (playing, returning) = (None, None);
                            self.rest_frame(k)
                        }
                    }
                }
                (Some((a, start)), None, None) => {
                    let i = ((t - start) / step) as usize;
                    shown = i;
                    match a.frames.get(i) {
                        Some(f) => Some(f),
                        None => {
                            playing = None;
                            self.rest_frame(k)
                        }
                    }
                }
                _ => settle.get(k).or_else(|| self.rest_frame(k)),
            };
            let Some(frame) = frame else { break };
            if keep {
                fed.push(TimedFrame {
                    image: frame.clone(),
                    t_ms: t,
                });
            }
            let progress = session.push_frame(frame, t);
            if let Ok(p) = &progress {
                let hold = p
                    .timer
                    .filter(|x| x.kind == crate::session::TimerKind::Hold);
                if let (Some(h), true, None, None) = (hold, playing.is_some(), held, returning) {
                    held = Some((shown, t0_ms + h.to_ms + RELEASE_REACTION_MS));
                }
            }
            if let Ok(p) = progress {
                if let (Some(action), Some(at)) = (p.action, p.prompt_at_ms) {
                    if answered_prompt != Some(at) && playing.is_none() {
                        if let Some(a) = self.answers.iter().find(|a| a.action == action) {
                            answered_prompt = Some(at);
                            // the answer's onset frame lands reaction_ms after the prompt
                            let prompt_abs = t0_ms + at;
                            let lead = a.onset as u64 * self.frame_ms;
                            let onset_at = prompt_abs + self.reaction_ms;
                            let start = onset_at.saturating_sub(lead).max(t + 1);
                            pending = Some((a, start));
                        }
                    }
                }
            }
            t += step;
            k += 1;
            if let Some((a, start)) = pending {
                if t >= start {
                    playing = Some((a, t));
                    pending = None;
                }
            }
        }
        (session.finish(), fed)
    }

    /// A recording that answers a fixed [`Schedule`]: frames every
    /// `frame_ms` from 0 to the schedule's end, resting, with each prompt's
    /// recorded answer placed so that its onset comes `reaction_ms` after
    /// the prompt (what a person in front of a browser's capture does).
    /// Prompts whose action the puppet cannot perform are left unanswered.
    pub fn script(&self, schedule: &Schedule) -> Vec<TimedFrame> {
        let step = self.frame_ms.max(1);
        // (answer, first frame time) in order
        let plays: Vec<(&Answer, u64)> = schedule
            .prompts
            .iter()
            .filter_map(|p| {
                let a = self.answers.iter().find(|a| a.action == p.action)?;
                let lead = a.onset as u64 * step;
                Some((a, (p.at_ms + self.reaction_ms).saturating_sub(lead)))
            })
            .collect();
        let mut out = Vec::new();
        let mut k = 0usize;
        let mut t = 0u64;
        while t <= schedule.end_ms {
            let playing = plays.iter().find_map(|&(a, start)| {
                let i = (t.checked_sub(start)? / step) as usize;
                a.frames.get(i)
            });
            let frame = match playing {
                Some(f) => Some(f),
                None => {
                    k += 1;
                    self.rest_frame(k)
                }
            };
            let Some(frame) = frame else { break };
            out.push(TimedFrame {
                image: frame.clone(),
                t_ms: t,
            });
            t += step;
        }
        out
    }
}

/// A shared clip the puppet knows how to perform: where its person rests
/// and where each of its recorded answers starts (ms on the clip's own
/// video clock), fitted by looking at the frames, so that each answer is
/// one clean movement from rest.
#[derive(Debug, Clone, Copy)]
pub struct DemoClip {
    /// The clip's folder name in the shared data (`actions/<name>`).
    pub name: &'static str,
    /// A quiet stretch of the clip (from, to), ms.
    pub rest_ms: (u64, u64),
    /// (action, onset ms, lead ms before it, ms after it) of each answer.
    pub answers: &'static [(Action, u64, u64, u64)],
}

/// The clips [`DemoClip`] knows: `apfol_real2` (turns to the left and to
/// the right) and `lp_d9` (a blink held closed).
pub const DEMO_CLIPS: &[DemoClip] = &[
    DemoClip {
        name: "apfol_real2",
        rest_ms: (0, 600),
        answers: &[
            (Action::TurnLeft, 700, 200, 900),
            (Action::TurnRight, 3600, 200, 700),
        ],
    },
    DemoClip {
        name: "lp_d9",
        rest_ms: (2000, 3200),
        answers: &[(Action::Blink, 9700, 300, 900)],
    },
];

impl DemoClip {
    /// The clip called `name`, or INVALID_ARGUMENT listing the known ones.
    pub fn named(name: &str) -> crate::Result<&'static DemoClip> {
        DEMO_CLIPS.iter().find(|c| c.name == name).ok_or_else(|| {
            let known: Vec<&str> = DEMO_CLIPS.iter().map(|c| c.name).collect();
            crate::Error::invalid(
                "clip",
                format!("`{name}` is not a demo clip (known: {})", known.join(", ")),
            )
        })
    }

    /// The actions its answers perform.
    pub fn actions(&self) -> Vec<Action> {
        self.answers.iter().map(|a| a.0).collect()
    }

    /// The puppet made of `frames`, the clip's video decoded at its own
    /// rate (at least two frames).
    pub fn puppet(&self, frames: &[TimedFrame]) -> crate::Result<Puppet> {
        let (Some(first), Some(last)) = (frames.first(), frames.last()) else {
            return Err(crate::Error::invalid("frames", "the clip has no frames"));
        };
        let span = last.t_ms.saturating_sub(first.t_ms);
        let frame_ms = span / (frames.len() as u64 - 1).max(1);
        if frames.len() < 2 || frame_ms == 0 {
            return Err(crate::Error::invalid(
                "frames",
                "the clip needs at least two timed frames",
            ));
        }
        Ok(Puppet {
            rest: Puppet::rest_from_clip(frames, self.rest_ms.0, self.rest_ms.1),
            answers: self
                .answers
                .iter()
                .map(|&(a, onset, lead, after)| Answer::from_clip(a, frames, onset, lead, after))
                .collect(),
            frame_ms,
            reaction_ms: 400,
        })
    }
}

/// `start`'s answer as a device reads it (moved to [`crate::session::start`]).
pub use crate::session::start::StartAnswer;

/// The evidence upload (`POST /v1/certify/{id}/evidence` JSON) of a
/// capture session run with `start`'s options, performed by `puppet`: a
/// person made of real frames answering the server's prompts. The device's
/// own capture must complete (client code 0), else the error says why (an
/// action the puppet cannot perform is INVALID_ARGUMENT before anything
/// runs). A test and demonstration tool: it is how an attacker who
/// controls a device's software would answer too, which is why the
/// liveness evaluation (docs/EVALUATION.md) does not count injection
/// attacks as defended.
pub fn answered_evidence(
    engine: std::sync::Arc<crate::FaceEngine>,
    start: &StartAnswer,
    puppet: &Puppet,
) -> crate::Result<Vec<u8>> {
    use crate::session::challenge::ChallengeSpec;
    if let ChallengeSpec::Fixed(actions) = &start.options.challenge {
        if let Some(a) = actions
            .iter()
            .find(|a| !puppet.answers.iter().any(|p| p.action == **a))
        {
            return Err(crate::Error::invalid(
                "actions",
                format!("the puppet has no recorded `{}` to answer with", a.name()),
            ));
        }
    }
    let mut session = start.capture_session(engine, true)?;
    let device = puppet.perform(&mut session, 0, 25_000);
    if device.client_code != 0 {
        let why: Vec<String> = device
            .reasons
            .iter()
            .map(|r| format!("{:?}", r.code))
            .collect();
        return Err(crate::Error::invalid(
            "capture",
            format!("the puppet's capture did not complete: {}", why.join(", ")),
        ));
    }
    session.evidence()
}
