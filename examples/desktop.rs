//! Desktop verification app (eframe/egui): runs a live verification from the
//! camera or from a directory of frames, draws the face ring in
//! `progressBarColor` over `progressBarBackgroundColor`, shows `title` and
//! the current prompt when the schedule shows it (on a band of the ring's
//! colour) and "Hold still" between prompts (on grey), asks before quitting (`quitAlert*`), ends
//! with the timeout or fail dialog (`timeoutAlert*`, `failAlert*`) and the
//! result, and prints the AuthResult as JSON on stdout.
//!
//! ```text
//! cargo run --release --features gui --example desktop -- \
//!     --reference ref.jpg --frames clip_dir --fps 10 \
//!     [--actions blink,turn_left] [--ui-options ui.json] \
//!     [--screenshot shot.png] [--close-after 3]
//! ```
//! Without `--frames` it opens camera `--camera N` (feature `camera`).
//! Headless: `xvfb-run -s "-screen 0 1280x900x24" cargo run ...`.
//! Exit status: 0 SUCCESS, 1 FAIL, 2 could not start.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use clap::Parser;
use eframe::egui::{
    self, pos2, vec2, Color32, ColorImage, Id, Rect, RichText, Stroke, TextureHandle,
    TextureOptions, ViewportCommand,
};
use realface::liveness::actions::Action;
use realface::session::certify::CertifyRegistry;
use realface::session::challenge::ChallengeSpec;
use realface::session::result::{AuthResult, AuthState};
use realface::session::ui::{Alert, Color, UiOptions};
use realface::session::{Progress, Reference, SessionOptions, VerificationSession};
use realface::source::{self, FrameEvent, FrameSource};
use realface::{EngineConfig, Error, FaceEngine, RgbImage};

#[derive(Parser, Debug, Clone)]
#[command(about = "realface desktop verification")]
struct Args {
    /// Reference photo (one face).
    #[arg(long)]
    reference: PathBuf,
    /// Replay this directory of frames instead of the camera.
    #[arg(long)]
    frames: Option<PathBuf>,
    /// Frame rate of `--frames`.
    #[arg(long, default_value_t = 10.0)]
    fps: f64,
    /// Camera index (without `--frames`).
    #[arg(long, default_value_t = 0)]
    camera: u32,
    /// Fixed challenge, e.g. `blink,turn_left` (default: 2 random actions).
    #[arg(long)]
    actions: Option<String>,
    /// Replayed frames only: fixed prompt delays in ms instead of the random
    /// ones (as `realface verify --prompt-delays-ms`), one per action.
    #[arg(long)]
    prompt_delays_ms: Option<String>,
    /// Replayed frames with fixed delays only: held answers' release cues at
    /// these times (ms after the first frame, one per action; as `realface
    /// verify --release-at-ms`).
    #[arg(long, requires = "prompt_delays_ms")]
    release_at_ms: Option<String>,
    /// The product's UI option object (JSON: progressBarColor, title, ...).
    #[arg(long)]
    ui_options: Option<PathBuf>,
    /// Save a screenshot of the window once a prompt is up (or at the end,
    /// if that moment never comes).
    #[arg(long)]
    screenshot: Option<PathBuf>,
    /// Save a screenshot of the window while it shows "Hold still" before a
    /// prompt (or at the end, if that moment never comes).
    #[arg(long)]
    screenshot_hold: Option<PathBuf>,
    /// Save a screenshot of the final screen (result and dialog).
    #[arg(long)]
    screenshot_end: Option<PathBuf>,
    /// Close the window this many seconds after the result (for unattended runs).
    #[arg(long)]
    close_after: Option<f64>,
    /// Unattended demo of the quit dialog: press Quit after this many frames
    /// (`--screenshot` then shows the dialog; with `--close-after` the quit
    /// is confirmed after that many seconds).
    #[arg(long)]
    press_quit_after: Option<u64>,
}

/// What the worker thread shares with the window.
#[derive(Default)]
struct Shared {
    status: String,
    frame: Option<(u64, RgbImage)>,
    progress: Option<Progress>,
    result: Option<AuthResult>,
    setup_error: Option<String>,
    quit: bool,
    paused: bool,
}

fn lock(s: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

fn challenge(actions: Option<&str>) -> realface::Result<ChallengeSpec> {
    match actions {
        None => Ok(ChallengeSpec::Random(2)),
        Some(list) => Ok(ChallengeSpec::Fixed(
            list.split(',')
                .map(str::parse::<Action>)
                .collect::<realface::Result<Vec<_>>>()?,
        )),
    }
}

/// Loads the engine, opens the source and runs the session, pacing a
/// frames directory at its frame rate.
fn worker(args: Args, shared: Arc<Mutex<Shared>>, ctx: egui::Context) {
    let setup = || -> realface::Result<(VerificationSession, Box<dyn FrameSource>)> {
        lock(&shared).status = "Loading models…".into();
        let engine = Arc::new(FaceEngine::new(EngineConfig::default())?);
        let reference = engine.load(&args.reference)?;
        let registry = CertifyRegistry::new();
        let now = realface::session::certify::unix_now_ms();
        let ticket = registry.claim(registry.issue(now)?.certify_id(), now)?;
        let mut options =
            SessionOptions::default().with_challenge(challenge(args.actions.as_deref())?);
        if let Some(list) = &args.prompt_delays_ms {
            if args.frames.is_none() {
                return Err(Error::invalid(
                    "prompt_delays_ms",
                    "fixed prompt delays are for replayed frames only: a camera session's schedule comes from its nonce",
                ));
            }
            options = options.with_prompt_delays_ms(ms_list(list, "prompt_delays_ms")?);
            if let Some(list) = &args.release_at_ms {
                options = options.with_release_at_ms(ms_list(list, "release_at_ms")?);
            }
        }
        let session =
            VerificationSession::new(engine.clone(), ticket, Reference::Photo(reference), options)?;
        let src: Box<dyn FrameSource> = match &args.frames {
            Some(dir) => Box::new(source::DirSource::open(
                dir,
                args.fps,
                engine.config().limits,
            )?),
            None => source::open_camera(args.camera)?,
        };
        Ok((session, src))
    };
    let (mut session, mut src) = match setup() {
        Ok(x) => x,
        Err(e) => {
            let mut s = lock(&shared);
            s.setup_error = Some(format!("{e} (error {})", e.code().as_u32()));
            s.status = "could not start".into();
            drop(s);
            ctx.request_repaint();
            return;
        }
    };
    lock(&shared).status = src.describe();
    let paced = args.frames.is_some();
    let mut clock = Instant::now();
    let mut seq = 0u64;
    let result = source::run(&mut session, src.as_mut(), |ev| {
        // Hold while the quit dialog is open (a replay waits; a camera drops frames).
        while lock(&shared).paused {
            std::thread::sleep(Duration::from_millis(20));
            clock += Duration::from_millis(20);
        }
        let mut s = lock(&shared);
        match ev {
            FrameEvent::Progress(f, p) => {
                if paced {
                    let due = clock + Duration::from_millis(f.t_ms);
                    drop(s);
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    s = lock(&shared);
                }
                seq += 1;
                let changed = s
                    .progress
                    .as_ref()
                    .is_none_or(|q| q.state != p.state || q.action != p.action);
                if changed {
                    eprintln!("desktop: {} ms: {:?} \"{}\"", f.t_ms, p.state, p.prompt);
                }
                s.frame = Some((seq, f.image.clone()));
                s.progress = Some(p.clone());
            }
            FrameEvent::Error(_, e) => s.status = format!("frame skipped: {e}"),
        }
        ctx.request_repaint();
        if s.quit {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    lock(&shared).result = Some(result);
    ctx.request_repaint();
}

/// `A,B,...`: whole milliseconds (`what` names the option).
fn ms_list(list: &str, what: &'static str) -> realface::Result<Vec<u64>> {
    list.split(',')
        .map(|d| {
            d.trim()
                .parse::<u64>()
                .map_err(|_| Error::invalid(what, format!("`{d}` is not a whole number of ms")))
        })
        .collect()
}

/// Background of the "Hold still" banner (between prompts).
const HOLD_STILL_GREY: Color32 = Color32::from_rgb(0x5A, 0x5A, 0x5A);

fn color(c: Color) -> Color32 {
    let [r, g, b] = c.0;
    Color32::from_rgb(r, g, b)
}

struct App {
    args: Args,
    ui: UiOptions,
    shared: Arc<Mutex<Shared>>,
    texture: Option<TextureHandle>,
    shown_seq: u64,
    quit_dialog: bool,
    quit_opened: Option<Instant>,
    end_dialog: Option<Alert>,
    finished_at: Option<Instant>,
    shots: Vec<(PathBuf, bool)>,
    shot_pending: Option<PathBuf>,
}

impl App {
    fn new(args: Args, ui: UiOptions, shared: Arc<Mutex<Shared>>, ctx: &egui::Context) -> Self {
        let (a, s, c) = (args.clone(), shared.clone(), ctx.clone());
        std::thread::spawn(move || worker(a, s, c));
        let mut shots = Vec::new();
        if let Some(p) = &args.screenshot {
            shots.push((p.clone(), false));
        }
        if let Some(p) = &args.screenshot_end {
            shots.push((p.clone(), true));
        }
        if let Some(p) = &args.screenshot_hold {
            shots.push((p.clone(), false));
        }
        Self {
            args,
            ui,
            shared,
            texture: None,
            shown_seq: 0,
            quit_dialog: false,
            quit_opened: None,
            end_dialog: None,
            finished_at: None,
            shots,
            shot_pending: None,
        }
    }

    /// The camera image with the ring over it.
    fn draw_face(&mut self, ui: &mut egui::Ui, ring: f32) {
        let avail = ui.available_rect_before_wrap();
        let side = avail.width().min(avail.height() - 70.0).max(100.0);
        let area = Rect::from_center_size(
            pos2(avail.center().x, avail.top() + side / 2.0),
            vec2(side, side),
        );
        ui.allocate_rect(area, egui::Sense::hover());
        let painter = ui.painter();
        if let Some(tex) = &self.texture {
            let [w, h] = tex.size();
            let scale = side / w.max(h) as f32;
            let r = Rect::from_center_size(area.center(), vec2(w as f32, h as f32) * scale);
            painter.image(
                tex.id(),
                r,
                Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        } else {
            painter.rect_filled(area, 8.0, Color32::from_gray(30));
        }
        let radius = side * 0.42;
        let width = (side * 0.03).max(6.0);
        painter.circle_stroke(
            area.center(),
            radius,
            Stroke::new(width, color(self.ui.progress_bar_background_color)),
        );
        if ring > 0.0 {
            let steps = (ring * 128.0).ceil().max(2.0) as usize;
            let points: Vec<_> = (0..=steps)
                .map(|i| {
                    let a = -std::f32::consts::FRAC_PI_2
                        + std::f32::consts::TAU * ring.min(1.0) * i as f32 / steps as f32;
                    area.center() + radius * vec2(a.cos(), a.sin())
                })
                .collect();
            painter.add(egui::Shape::line(
                points,
                Stroke::new(width, color(self.ui.progress_bar_color)),
            ));
        }
    }

    fn dialog(ctx: &egui::Context, id: &str, alert: &Alert, buttons: &[&str]) -> Option<usize> {
        let mut pressed = None;
        egui::Modal::new(Id::new(id)).show(ctx, |ui| {
            ui.set_width(360.0);
            ui.heading(&alert.title);
            ui.add_space(8.0);
            ui.label(&alert.message);
            ui.add_space(12.0);
            ui.horizontal(|ui| {
                for (i, b) in buttons.iter().enumerate() {
                    if ui.button(*b).clicked() {
                        pressed = Some(i);
                    }
                }
            });
        });
        pressed
    }

    fn take_screenshots(
        &mut self,
        ctx: &egui::Context,
        ready_mid: bool,
        ready_hold: bool,
        ready_end: bool,
    ) {
        // Save a requested screenshot once it arrives.
        let shot = ctx.input(|i| {
            i.raw.events.iter().find_map(|e| match e {
                egui::Event::Screenshot { image, .. } => Some(image.clone()),
                _ => None,
            })
        });
        if let Some(img) = shot {
            let Some(path) = self.shot_pending.take() else {
                return;
            };
            let [w, h] = img.size;
            let raw: Vec<u8> = img.pixels.iter().flat_map(|p| p.to_array()).collect();
            match image::RgbaImage::from_raw(w as u32, h as u32, raw).map(|i| i.save(&path)) {
                Some(Ok(())) => eprintln!("desktop: screenshot saved to {}", path.display()),
                _ => eprintln!("desktop: cannot save screenshot {}", path.display()),
            }
            return;
        }
        if self.shot_pending.is_some() {
            return;
        }
        let hold_path = self.args.screenshot_hold.clone();
        let idx = self.shots.iter().position(|(path, end)| {
            if *end {
                ready_end
            } else if Some(path) == hold_path.as_ref() {
                ready_hold || ready_end
            } else {
                ready_mid || ready_end
            }
        });
        if let Some(i) = idx {
            let (path, _) = self.shots.remove(i);
            self.shot_pending = Some(path);
            ctx.send_viewport_cmd(ViewportCommand::Screenshot(Default::default()));
        }
    }
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        let (frame, progress, result, setup_error, status) = {
            let s = lock(&self.shared);
            let frame = match &s.frame {
                Some((seq, img)) if *seq != self.shown_seq => Some((*seq, img.clone())),
                _ => None,
            };
            (
                frame,
                s.progress.clone(),
                s.result.clone(),
                s.setup_error.clone(),
                s.status.clone(),
            )
        };
        if let Some((seq, img)) = frame {
            let ci =
                ColorImage::from_rgb([img.width() as usize, img.height() as usize], img.as_raw());
            match &mut self.texture {
                Some(t) => t.set(ci, TextureOptions::LINEAR),
                None => self.texture = Some(ctx.load_texture("frame", ci, TextureOptions::LINEAR)),
            }
            self.shown_seq = seq;
        }
        if ctx.input(|i| i.viewport().close_requested())
            && result.is_none()
            && setup_error.is_none()
        {
            ctx.send_viewport_cmd(ViewportCommand::CancelClose);
            self.quit_dialog = true;
        }
        if (result.is_some() || setup_error.is_some()) && self.finished_at.is_none() {
            self.finished_at = Some(Instant::now());
            self.end_dialog = result.as_ref().and_then(|r| self.ui.end_alert(r));
        }
        if self.quit_opened.is_none()
            && result.is_none()
            && self
                .args
                .press_quit_after
                .is_some_and(|n| self.shown_seq >= n)
        {
            self.quit_dialog = true;
        }
        if self.quit_dialog && self.quit_opened.is_none() {
            self.quit_opened = Some(Instant::now());
        }
        lock(&self.shared).paused = self.quit_dialog;

        egui::Panel::top("title").show(ui, |ui| {
            ui.vertical_centered(|ui| {
                ui.add_space(6.0);
                ui.label(RichText::new(&self.ui.title).size(26.0).strong());
                ui.add_space(6.0);
            });
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                let busy = result.is_none() && setup_error.is_none();
                if busy && ui.button("Quit").clicked() {
                    self.quit_dialog = true;
                }
                ui.label(RichText::new(&status).small());
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let ring = progress.as_ref().map_or(0.0, |p| p.ring);
            self.draw_face(ui, ring);
            ui.vertical_centered(|ui| {
                if let Some(e) = &setup_error {
                    ui.label(RichText::new(format!("Cannot start: {e}")).size(18.0).color(Color32::RED));
                } else if let Some(r) = &result {
                    let (text, c) = match r.auth_state {
                        AuthState::Success => ("Verified", Color32::from_rgb(0x2E, 0x7D, 0x32)),
                        _ => ("Not verified", Color32::from_rgb(0xC6, 0x28, 0x28)),
                    };
                    ui.label(RichText::new(text).size(24.0).strong().color(c));
                    ui.label(format!(
                        "code {}  ·  liveness {}  ·  similarity {} (threshold {:.3})  ·  quality {}",
                        r.client_code,
                        r.score.map_or("-".into(), |v| format!("{v:.0}")),
                        r.similarity.map_or("-".into(), |v| format!("{v:.3}")),
                        r.threshold,
                        r.quality.map_or("-".into(), |v| format!("{v:.0}")),
                    ));
                    for reason in &r.reasons {
                        ui.label(RichText::new(&reason.message).small());
                    }
                } else if let Some(p) = &progress {
                    // the prompt on the ring's colour; "Hold still" on grey
                    let fill = if p.action.is_some() {
                        color(self.ui.progress_bar_color)
                    } else {
                        HOLD_STILL_GREY
                    };
                    egui::Frame::new()
                        .fill(fill)
                        .corner_radius(8.0)
                        .inner_margin(egui::Margin::symmetric(28, 10))
                        .show(ui, |ui| {
                            // the table's icon and short word, then the sentence
                            if let Some(e) = realface::prompts::entry_of(p.prompt_key) {
                                ui.label(RichText::new(format!("{}  {}", e.glyph, e.word_en)).size(30.0).strong().color(Color32::WHITE));
                            }
                            ui.label(RichText::new(&p.prompt).size(22.0).color(Color32::WHITE));
                        });
                    if p.step > 0 {
                        ui.label(realface::prompts::step_text(p.step, p.actions_total, realface::prompts::Lang::En));
                    }
                    if let Some(t) = p.timer {
                        let what = match t.kind {
                            realface::session::TimerKind::AnswerWindow => "start within",
                            realface::session::TimerKind::Hold => "hold until the ring is full",
                        };
                        ui.label(RichText::new(format!("{what}: {} ms", t.to_ms.saturating_sub(t.from_ms))).small());
                    }
                } else {
                    ui.add(egui::Spinner::new().size(36.0).color(color(self.ui.activity_indicator_color)));
                }
            });
        });

        if self.quit_dialog {
            let auto = self.args.press_quit_after.is_some()
                && self
                    .args
                    .close_after
                    .zip(self.quit_opened)
                    .is_some_and(|(secs, t)| t.elapsed().as_secs_f64() >= secs)
                && self.shots.iter().all(|(_, end)| *end)
                && self.shot_pending.is_none();
            let pressed = Self::dialog(&ctx, "quit", &self.ui.quit_alert(), &["Continue", "Quit"]);
            match pressed.or(auto.then_some(1)) {
                Some(0) => self.quit_dialog = false,
                Some(_) => {
                    self.quit_dialog = false;
                    let mut s = lock(&self.shared);
                    s.quit = true;
                    s.paused = false;
                }
                None => {}
            }
        }
        if let Some(alert) = self.end_dialog.clone() {
            if Self::dialog(&ctx, "end", &alert, &["OK"]).is_some() {
                self.end_dialog = None;
            }
        }

        let quit_shown = self
            .quit_opened
            .is_some_and(|t| self.quit_dialog && t.elapsed() > Duration::from_millis(300));
        let live = result.is_none() && self.texture.is_some();
        let mid = quit_shown
            || (self.args.press_quit_after.is_none()
                && live
                && progress.as_ref().is_some_and(|p| p.action.is_some()));
        let hold = self.args.press_quit_after.is_none()
            && live
            && progress
                .as_ref()
                .is_some_and(|p| p.state == realface::session::SessionState::HoldStill);
        let end = self
            .finished_at
            .is_some_and(|t| t.elapsed() > Duration::from_millis(500));
        self.take_screenshots(&ctx, mid, hold, end || setup_error.is_some());
        let closing = self
            .args
            .close_after
            .zip(self.finished_at)
            .is_some_and(|(secs, t)| t.elapsed().as_secs_f64() >= secs);
        if closing && self.shots.is_empty() && self.shot_pending.is_none() {
            ctx.send_viewport_cmd(ViewportCommand::Close);
        }
        ctx.request_repaint_after(Duration::from_millis(50));
    }
}

fn main() {
    let args = Args::parse();
    let ui = match &args.ui_options {
        None => Ok(UiOptions::default()),
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| Error::Io {
                path: p.clone(),
                source: e,
            })
            .and_then(|s| UiOptions::from_json(&s)),
    };
    let ui = match ui {
        Ok(u) => u,
        Err(e) => {
            eprintln!("desktop: {e}");
            std::process::exit(2);
        }
    };
    let title = ui.title.clone();
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([720.0, 860.0])
            .with_title(title.clone()),
        ..Default::default()
    };
    let shared = Arc::new(Mutex::new(Shared::default()));
    let for_app = shared.clone();
    let run = eframe::run_native(
        &title,
        options,
        Box::new(move |cc| Ok(Box::new(App::new(args, ui, for_app, &cc.egui_ctx)))),
    );
    if let Err(e) = run {
        eprintln!("desktop: cannot open a window: {e}");
        std::process::exit(2);
    }
    let (result, setup_error) = {
        let s = lock(&shared);
        (s.result.clone(), s.setup_error.clone())
    };
    if let Some(e) = setup_error {
        eprintln!("desktop: cannot start: {e}");
        std::process::exit(2);
    }
    match result {
        Some(r) => {
            println!("{}", serde_json::to_string(&r).unwrap_or_default());
            std::process::exit(if r.auth_state == AuthState::Success {
                0
            } else {
                1
            });
        }
        None => {
            eprintln!("desktop: no result (the window closed before the session ended)");
            std::process::exit(2);
        }
    }
}
