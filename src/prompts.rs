//! The texts and icons a client shows during a session, in English and
//! Simplified Chinese: one table for the library, the desktop app, the C ABI
//! and the web page, so every front end says the same thing.
//!
//! Each entry has a stable `key` ([`crate::Progress::prompt_key`] names the
//! one to show now), a stable icon name with a Unicode glyph to fall back
//! on, and a short word to show large beside the icon, so that a person
//! can act before they finish reading the sentence.
//!
//! ```
//! use realface::prompts::{text, Lang, PROMPTS};
//!
//! assert_eq!(text("action.turn_left", Lang::En), Some("Turn your head to the left"));
//! assert_eq!(text("action.turn_left", Lang::ZhHans), Some("请向左转头"));
//! assert!(PROMPTS.iter().all(|p| !p.en.is_empty() && !p.zh_hans.is_empty()));
//! ```

use serde::Serialize;

/// A language of the prompt table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Lang {
    /// English.
    #[serde(rename = "en")]
    En,
    /// Simplified Chinese.
    #[serde(rename = "zh-Hans")]
    ZhHans,
}

impl Lang {
    /// Every language, in the C ABI's order (0 English, 1 Simplified Chinese).
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhHans];

    /// From a BCP 47 tag (`en`, `en-GB`, `zh`, `zh-CN`, `zh-Hans`, ...);
    /// anything else is English.
    pub fn from_tag(tag: &str) -> Self {
        let t = tag.trim().to_ascii_lowercase();
        if t == "zh" || t.starts_with("zh-hans") || t == "zh-cn" || t == "zh-sg" {
            Lang::ZhHans
        } else {
            Lang::En
        }
    }
}

/// One entry of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptText {
    /// Stable key (`action.blink`, `hold_still`, ...).
    pub key: &'static str,
    /// Stable icon name, for a client's own artwork.
    pub icon: &'static str,
    /// A Unicode glyph for the icon, for clients without artwork.
    pub glyph: &'static str,
    /// The short word shown large beside the icon (English).
    pub word_en: &'static str,
    /// The short word (Simplified Chinese).
    pub word_zh_hans: &'static str,
    /// The sentence (English).
    pub en: &'static str,
    /// The sentence (Simplified Chinese).
    pub zh_hans: &'static str,
}

impl PromptText {
    /// The sentence in `lang`.
    pub fn text(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::ZhHans => self.zh_hans,
        }
    }

    /// The short word in `lang`.
    pub fn word(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.word_en,
            Lang::ZhHans => self.word_zh_hans,
        }
    }
}

const fn entry(
    key: &'static str,
    icon: &'static str,
    glyph: &'static str,
    words: [&'static str; 2],
    en: &'static str,
    zh_hans: &'static str,
) -> PromptText {
    PromptText {
        key,
        icon,
        glyph,
        word_en: words[0],
        word_zh_hans: words[1],
        en,
        zh_hans,
    }
}

/// The table. Its order is the C ABI's prompt number
/// (`RfProgress::prompt`); new entries only ever go at the end.
pub const PROMPTS: [PromptText; 36] = [
    entry(
        "face_in_circle",
        "face",
        "🙂",
        ["Face", "对准"],
        "Put your face inside the circle",
        "请将脸部移入圆圈内",
    ),
    entry(
        "hold_still",
        "hold",
        "✋",
        ["Still", "不动"],
        "Hold still",
        "请保持不动",
    ),
    entry(
        "action.blink",
        "eyes-closed",
        "😌",
        ["Eyes", "闭眼"],
        "Close your eyes until you hear the tone",
        "请闭上眼睛，听到提示音再睁开",
    ),
    entry(
        "action.mouth_open",
        "mouth-open",
        "😮",
        ["Mouth", "张嘴"],
        "Open your mouth wide",
        "请张大嘴",
    ),
    entry(
        "action.turn_left",
        "turn-left",
        "⬅",
        ["Left", "左转"],
        "Turn your head to the left",
        "请向左转头",
    ),
    entry(
        "action.turn_right",
        "turn-right",
        "➡",
        ["Right", "右转"],
        "Turn your head to the right",
        "请向右转头",
    ),
    entry(
        "action.nod",
        "nod",
        "↕",
        ["Nod", "点头"],
        "Nod: look down, then back up",
        "请点头：先低头，再抬头",
    ),
    entry("done", "done", "✔", ["Done", "完成"], "Done", "完成"),
    entry(
        "step",
        "step",
        "#",
        ["Step", "步骤"],
        "Step {k} of {n}",
        "第 {k} 步，共 {n} 步",
    ),
    entry(
        "release",
        "release",
        "🔔",
        ["Relax", "放松"],
        "Relax",
        "放松",
    ),
    entry(
        "hold",
        "hold-ring",
        "⏳",
        ["Hold", "保持"],
        "Hold it until the ring is full",
        "保持住，直到圆环填满",
    ),
    // what a failed session may tell the person in front of the camera
    // (ReasonCode::hint): never a score or an attack's name
    entry(
        "hint.no_face",
        "no-face",
        "👤",
        ["No face", "未见人脸"],
        "No face was seen. Face the camera in good light, inside the circle.",
        "未检测到人脸。请在光线充足处正对摄像头，脸部置于圆圈内。",
    ),
    entry(
        "hint.no_answer",
        "no-answer",
        "⏱",
        ["Too late", "未及时"],
        "The action was not seen in time. Do each action as soon as it is shown.",
        "未及时检测到动作。提示出现后请立即做出动作。",
    ),
    entry(
        "hint.hold_still",
        "hold",
        "✋",
        ["Still", "不动"],
        "Hold still between the actions, then do only what is asked.",
        "动作之间请保持不动，只做提示的动作。",
    ),
    entry(
        "hint.one_face",
        "faces",
        "👥",
        ["One face", "仅一人"],
        "Only one face may be in view.",
        "画面中只能有一张人脸。",
    ),
    entry(
        "hint.try_again",
        "retry",
        "↻",
        ["Again", "重试"],
        "We could not verify you. Please try again.",
        "验证未通过，请重试。",
    ),
    entry(
        "retry",
        "retry",
        "↻",
        ["Again", "重试"],
        "Try again",
        "重试",
    ),
    // live hints before the first prompt, while the face is not yet ready
    // (found, centred, close enough, lit, still): the web capture's
    entry(
        "ready.closer",
        "closer",
        "🔍",
        ["Closer", "靠近"],
        "Move closer",
        "请靠近一些",
    ),
    entry(
        "ready.back",
        "back",
        "↔",
        ["Back", "远一点"],
        "Move back a little",
        "请离远一些",
    ),
    entry(
        "ready.centre",
        "centre",
        "⊙",
        ["Centre", "居中"],
        "Centre your face in the oval",
        "请将脸部置于椭圆中央",
    ),
    entry(
        "ready.light",
        "light",
        "💡",
        ["Light", "光线"],
        "Find more light",
        "请到光线更充足的地方",
    ),
    entry(
        "hint.not_ready",
        "not-ready",
        "⏱",
        ["Not ready", "未就绪"],
        "Your face was not in place in time. Face the camera, centred, in good light, and hold still.",
        "未能及时就位。请正对摄像头，脸部居中，光线充足并保持不动。",
    ),
    // failure hints the capture's conditions choose (AuthResult::hint)
    entry(
        "hint.too_dark",
        "light",
        "💡",
        ["Too dark", "太暗"],
        "It was too dark to see your face. Find more light, then try again.",
        "光线太暗，无法看清脸部。请到光线更充足的地方再试。",
    ),
    entry(
        "hint.left_oval",
        "centre",
        "⊙",
        ["Stay in view", "保持在框内"],
        "Your face left the oval. Keep it inside the oval until the end.",
        "脸部离开了椭圆框。请保持脸部在框内直到结束。",
    ),
    // the capture's own words around the prompts (title, buttons, the
    // outcome), so that a page in one language is in it throughout
    entry("ui.title", "ui", "", ["Face verification", "人脸核验"], "Face verification", "人脸核验"),
    entry("ui.checking", "ui", "", ["Checking…", "正在核验…"], "Checking…", "正在核验…"),
    entry("ui.verified", "ui", "", ["Verified", "验证通过"], "Verified", "验证通过"),
    entry("ui.not_verified", "ui", "", ["Not verified", "验证未通过"], "Not verified", "验证未通过"),
    entry("ui.close", "ui", "", ["Close", "关闭"], "Close", "关闭"),
    entry("ui.continue", "ui", "", ["Continue", "继续"], "Continue", "继续"),
    entry("ui.quit", "ui", "", ["Quit", "退出"], "Quit", "退出"),
    entry("ui.quit_title", "ui", "", ["Quit the verification?", "要退出验证吗？"], "Quit the verification?", "要退出验证吗？"),
    entry("ui.quit_message", "ui", "", ["Your verification is not finished.", "验证尚未完成。"], "Your verification is not finished.", "验证尚未完成。"),
    entry("ui.cancelled", "ui", "", ["Verification cancelled", "验证已取消"], "Verification cancelled", "验证已取消"),
    entry("ui.timeout_title", "ui", "", ["Time is up", "已超时"], "Time is up", "已超时"),
    entry(
        "ui.timeout_message",
        "ui",
        "",
        ["Too long", "超时"],
        "The verification took too long. Please try again.",
        "验证用时过长，请重试。",
    ),
];

/// The entry with `key`.
pub fn entry_of(key: &str) -> Option<&'static PromptText> {
    PROMPTS.iter().find(|p| p.key == key)
}

/// The sentence of `key` in `lang`.
pub fn text(key: &str, lang: Lang) -> Option<&'static str> {
    entry_of(key).map(|p| p.text(lang))
}

/// The C ABI's number of `key` (its index in [`PROMPTS`]).
pub fn index_of(key: &str) -> Option<usize> {
    PROMPTS.iter().position(|p| p.key == key)
}

/// "Step k of n" in `lang`.
pub fn step_text(k: usize, n: usize, lang: Lang) -> String {
    text("step", lang)
        .unwrap_or("{k}/{n}")
        .replace("{k}", &k.to_string())
        .replace("{n}", &n.to_string())
}

/// The whole table as JSON (the web page's copy, served by the server).
pub fn to_json() -> String {
    serde_json::to_string(&PROMPTS[..]).unwrap_or_else(|_| "[]".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_texts_are_filled_in() {
        for e in PROMPTS {
            assert!(!e.en.is_empty() && !e.zh_hans.is_empty(), "{}", e.key);
        }
        let mut keys: Vec<&str> = PROMPTS.iter().map(|p| p.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), PROMPTS.len());
        assert_eq!(step_text(1, 2, Lang::En), "Step 1 of 2");
        assert_eq!(step_text(2, 3, Lang::ZhHans), "第 2 步，共 3 步");
        assert_eq!(Lang::from_tag("zh-CN"), Lang::ZhHans);
        assert_eq!(Lang::from_tag("de"), Lang::En);
        assert!(to_json().contains("\"zhHans\":\"请向左转头\""));
    }
}
