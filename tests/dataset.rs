//! Figures on the shared evaluation data (../shared/data or $REALFACE_DATA).
//! These fail, never skip, when the data is missing.

mod common;

use std::io::Write;
use std::path::Path;

use common::{cli, data_dir, engine};
use rayon::prelude::*;
use realface::eval::dataset::{read_identities, Split};

/// BlazeFace (auto: short range, then full range) finds at least one face in
/// >= 99% of the 2,101 CelebA photos. The measured count is printed.
#[test]
fn celeba_detection_rate() {
    let dir = data_dir().join("faces");
    let images: Vec<_> = read_identities(&dir.join("identities.csv"))
        .expect("identities")
        .into_iter()
        .filter(|m| m.source.as_deref() == Some("celeba"))
        .collect();
    assert_eq!(images.len(), 2101, "the CelebA part of the shared set");
    let found = images
        .par_iter()
        .filter(|m| {
            let img = engine()
                .load(dir.join(&m.path))
                .expect("CelebA photos decode");
            !engine().detect(&img).expect("detect runs").is_empty()
        })
        .count();
    let rate = found as f64 / images.len() as f64;
    eprintln!(
        "CelebA detection: {found}/{} = {:.2}%",
        images.len(),
        rate * 100.0
    );
    assert!(rate >= 0.99, "detection rate {rate}");
}

/// `eval match` on a small subset of the report split writes a sane report.
/// Runs `realface eval match --split all` on a subset and reads its report.
fn eval_match(csv: &Path, root: &Path, out: &Path, extra: &[&str]) -> serde_json::Value {
    let status = cli()
        .args(["eval", "match", "--split", "all", "--identities"])
        .arg(csv)
        .arg("--root")
        .arg(root)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
        .expect("JSON")
}

#[test]
fn eval_match_on_a_subset() {
    let dir = data_dir().join("faces");
    let all = read_identities(&dir.join("identities.csv")).expect("identities");
    let mut ids: Vec<&str> = all
        .iter()
        .filter(|m| {
            m.source.as_deref() == Some("celeba") && Split::of(&m.identity) == Split::Report
        })
        .map(|m| m.identity.as_str())
        .collect();
    ids.dedup();
    ids.truncate(25);
    let tmp = std::env::temp_dir().join(format!("realface-eval-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let csv = tmp.join("subset.csv");
    let mut f = std::fs::File::create(&csv).expect("csv");
    writeln!(f, "path,identity,source").expect("write");
    let mut n = 0;
    for m in all.iter().filter(|m| ids.contains(&m.identity.as_str())) {
        writeln!(f, "{},{},celeba", m.path, m.identity).expect("write");
        n += 1;
    }
    drop(f);
    let out = tmp.join("out");
    let report = eval_match(&csv, &dir, &out, &[]);
    assert_eq!(report["n_images"].as_u64(), Some(n));
    let failed = report["n_failed"].as_u64().expect("n_failed");
    assert!(failed < n / 10);
    let ok = n - failed;
    assert!(report["n_genuine"].as_u64().expect("genuine") > 0);
    let pairs =
        report["n_genuine"].as_u64().unwrap_or(0) + report["n_impostor"].as_u64().unwrap_or(0);
    assert_eq!(pairs, ok * (ok - 1) / 2, "all-vs-all within one source");
    assert!(report["auc"].as_f64().expect("auc") > 0.9);
    assert!(report["eer"].as_f64().expect("eer") < 0.2);
    for key in [
        "far_at_default_threshold",
        "tar_at_default_threshold",
        "default_threshold",
    ] {
        assert!(report[key].is_number(), "{key}");
    }
    assert!(report["tar_at_far"]["1e-2"]["tar"].is_number());
    assert!(out.join("roc.png").is_file() && out.join("det.svg").is_file());
    assert!(out.join("scores.csv").is_file() && out.join("failures.csv").is_file());
    assert_eq!(report["reference"]["degraded"], false);

    // The same subset with ID-photo references (small, JPEG 50): every pair
    // has a degraded reference side, so the scores differ but the pair
    // count can only shrink by the references that no longer embed.
    let deg = eval_match(
        &csv,
        &dir,
        &tmp.join("out-degraded"),
        &["--degrade-reference"],
    );
    assert_eq!(deg["reference"]["degraded"], true);
    assert_eq!(deg["reference"]["jpeg_quality"], 50);
    let deg_pairs =
        deg["n_genuine"].as_u64().unwrap_or(0) + deg["n_impostor"].as_u64().unwrap_or(0);
    assert!(
        deg_pairs > 0 && deg_pairs <= pairs,
        "{deg_pairs} vs {pairs}"
    );
    assert!(deg["auc"].as_f64().expect("auc") > 0.85);
    assert_ne!(
        deg["auc"], report["auc"],
        "the reference side really changed"
    );

    // The same subset through a pairs file: only the listed pairs are scored.
    let subset: Vec<_> = all
        .iter()
        .filter(|m| ids.contains(&m.identity.as_str()))
        .collect();
    let pairs = tmp.join("pairs.csv");
    let mut f = std::fs::File::create(&pairs).expect("pairs");
    writeln!(f, "a,b,same").expect("write");
    for w in subset.windows(2).take(40) {
        writeln!(
            f,
            "{},{},{}",
            w[0].path,
            w[1].path,
            u8::from(w[0].identity == w[1].identity)
        )
        .expect("write");
    }
    drop(f);
    let out2 = tmp.join("out2");
    let run = cli()
        .args(["eval", "match", "--split", "all", "--identities"])
        .arg(&csv)
        .arg("--root")
        .arg(&dir)
        .arg("--pairs")
        .arg(&pairs)
        .arg("--out")
        .arg(&out2)
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("report.json")).expect("report"))
            .expect("JSON");
    assert_eq!(r2["mode"], "pairs");
    let scored = r2["n_genuine"].as_u64().unwrap_or(0) + r2["n_impostor"].as_u64().unwrap_or(0);
    assert!(scored > 0 && scored <= 40, "{scored}");
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `eval pad` on the shared spoof set writes ISO/IEC 30107-3 figures per species.
#[test]
fn eval_pad_reports_per_species() {
    let labels = data_dir().join("spoof/labels.csv");
    let out = std::env::temp_dir().join(format!("realface-pad-{}", std::process::id()));
    let run = cli()
        .args(["eval", "pad", "--detector", "sharpness", "--labels"])
        .arg(&labels)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).expect("report"))
            .expect("JSON");
    assert_eq!(r["n_bona_fide"].as_u64(), Some(371));
    assert_eq!(r["n_attacks"]["print"].as_u64(), Some(241));
    assert_eq!(r["n_attacks"]["replay"].as_u64(), Some(237));
    for point in ["at_apcer_1pct", "at_apcer_5pct"] {
        let limit = if point == "at_apcer_1pct" { 0.01 } else { 0.05 };
        for species in ["print", "replay"] {
            let a = r[point]["apcer"][species].as_f64().expect("apcer");
            assert!(a <= limit, "{point} {species} {a}");
        }
        assert!(r[point]["bpcer"].is_number());
    }
    assert!(out.join("det.svg").is_file());
    let bad = cli()
        .args(["eval", "pad", "--detector", "magic", "--labels"])
        .arg(&labels)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&out);
}
