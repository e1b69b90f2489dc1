//! The operator's console in a real headless Chromium (Debian `chromium` and
//! `chromium-driver`), driven over WebDriver by fantoccini: the page opens
//! with the admin key, shows the figures the API returns, pages through the
//! day's records, lifts a lockout, delivers a given-up webhook again, and a
//! screenshot is written to
//! target/console/console-{sqlite,postgres}.png.

mod common;

use std::time::{Duration, Instant};

use common::{chromedriver, clip_file, Db, TestServer, BOTH};
use fantoccini::{ClientBuilder, Locator};
use realface::liveness::actions::Action;
use realface_server::billing::{day_of, day_string};
use realface_server::Settings;
use serde_json::{json, Value};

const ADMIN: &str = "fedcba9876543210fedcba9876543210";

fn admin_get(s: &TestServer, path: &str) -> Value {
    let (status, v) = s.admin_get(ADMIN, path);
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn the_console_shows_the_apis_figures() {
    for db in BOTH {
        check_console(db);
    }
}

fn check_console(db: Db) {
    let s = TestServer::start(
        db,
        Settings {
            actions: vec![Action::Blink],
            challenge_count: 1,
            // the recorded clip's FAIL locks its identity: the console lifts it
            lockout: realface_server::lockout::LockoutSettings {
                failures: 1,
                ..Default::default()
            },
            // the receiver is down: its one try fails and the event is given up
            webhook: realface_server::webhook::WebhookSettings {
                max_attempts: 1,
                poll_ms: 50,
                ..Default::default()
            },
            ..Settings::default()
        },
    );
    s.block_on(s.state.store.set_admin_key(ADMIN))
        .expect("admin key");
    let hook = common::receiver::Receiver::start(common::receiver::FAIL);
    s.block_on(s.state.store.set_webhook(&s.app.app_id, Some(&hook.url), 0))
        .expect("webhook");
    // a billed check and enough calls for three pages of 20 records
    let id = s.certify(&clip_file("blinkdet_video", "frame_0001.jpg"));
    s.start_id(&id);
    assert_eq!(s.upload_video(&id, "blinkdet_video").0, 200);
    for _ in 0..40 {
        s.get(&format!("/v1/certify/{id}/result"));
    }
    s.post_json("/v1/certify", &json!({"realName": "x"}));
    let today = day_string(day_of(s.state.clock.now_ms()));
    let first = day_string(day_of(s.state.clock.now_ms()) - 29);
    let accounts = admin_get(&s, "/v1/admin/accounts");
    let stats = admin_get(&s, &format!("/v1/stats?from={first}&to={today}"));
    let records = admin_get(&s, &format!("/v1/records?day={today}&pageSize=20"));
    let account = &accounts["accounts"][0];
    hook.wait_for(30, |d| !d.is_empty());
    let t = Instant::now();
    let failed = loop {
        let v = admin_get(&s, "/v1/admin/webhooks?state=failed");
        if let Some(e) = v["events"].as_array().and_then(|a| a.first().cloned()) {
            break e;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no given-up event");
        std::thread::sleep(Duration::from_millis(50));
    };

    let (_driver, driver_url) = chromedriver();
    let console = format!("{}/console", s.url);
    let shot = common::root().join("target/console");
    let file = format!("console-{}.png", format!("{db:?}").to_lowercase());
    std::fs::create_dir_all(&shot).expect("target/console");
    s.block_on(async {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": "/usr/bin/chromium",
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1500"]}),
        );
        let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver_url)
            .await
            .expect("a WebDriver session");
        c.goto(&console).await.expect("open the console");
        c.find(Locator::Id("key")).await.expect("key").send_keys(ADMIN).await.expect("type");
        c.find(Locator::Id("login")).await.expect("login").click().await.expect("click");
        let wait = |css: &'static str| {
            let c = c.clone();
            async move { c.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css(css)).await.expect(css) }
        };
        // accounts: the API's figures
        let row = wait("#accounts tbody tr").await;
        let cells = row.find_all(Locator::Css("td")).await.expect("cells");
        let mut text = Vec::new();
        for cell in &cells {
            text.push(cell.text().await.expect("text"));
        }
        assert_eq!(text[0], account["appId"].as_str().expect("app"));
        assert_eq!(text[1], account["available"].as_str().expect("available"));
        assert_eq!(text[3], account["settled"].as_str().expect("settled"));
        assert_eq!(text[4], account["tier"].to_string());
        assert_eq!(text[6], account["callsThisYear"].to_string());
        // the chart: 30 days, today's bar the API's count
        wait("#chart rect.bar").await;
        let bars = c.find_all(Locator::Css("#chart rect.bar")).await.expect("bars");
        assert_eq!(bars.len(), 30);
        let last = bars.last().expect("a bar");
        assert_eq!(last.attr("data-day").await.expect("day").as_deref(), Some(today.as_str()));
        assert_eq!(
            last.attr("data-requests").await.expect("n"),
            Some(stats["days"][29]["requests"].to_string())
        );
        // verdicts, not errCode 0 calls: the recording's FAIL is a "not
        // verified" bar, and no FAIL counts as verified
        let day = &stats["days"][29];
        assert_eq!(day["notVerified"], 1, "{day}");
        for (css, attr, key) in [
            ("#chart rect.ok", "data-verified", "verified"),
            ("#chart rect.no", "data-not-verified", "notVerified"),
        ] {
            let rects = c.find_all(Locator::Css(css)).await.expect(css);
            let last = rects.last().expect("a bar");
            assert_eq!(last.attr(attr).await.expect(attr), Some(day[key].to_string()));
        }
        let totals = c.find(Locator::Id("totals")).await.expect("totals").text().await.expect("text");
        assert!(totals.contains(&format!("{} not verified", day["notVerified"])), "{totals}");
        // records: page 1, then page 2
        wait("#records tbody tr").await;
        let pages = records["pages"].as_u64().expect("pages");
        let info = c.find(Locator::Id("page-info")).await.expect("info").text().await.expect("text");
        assert_eq!(info, format!("page 1 of {pages} ({} calls)", records["total"]));
        let rows = c.find_all(Locator::Css("#records tbody tr")).await.expect("rows");
        assert_eq!(rows.len(), 20);
        // certify is the day's first call; start may share its millisecond,
        // and the rows of one millisecond are ordered by their random record
        // id, so certify is one of the first two rows
        let mut first_two = Vec::new();
        for row in &rows[..2] {
            first_two.push(row.text().await.expect("row"));
        }
        assert!(
            first_two.iter().any(|r| r.contains("certify") && r.contains(&id)),
            "{first_two:?}"
        );
        c.find(Locator::Id("next")).await.expect("next").click().await.expect("click");
        let t = Instant::now();
        loop {
            let info = c.find(Locator::Id("page-info")).await.expect("info").text().await.expect("text");
            if info.starts_with("page 2 of") {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "{info}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let page2 = c.find_all(Locator::Css("#records tbody tr")).await.expect("rows");
        assert_eq!(page2.len(), 20);
        assert!(page2[0].text().await.expect("row").contains("result"));
        // the locked identity, masked, with its lift button
        let locked = wait("#lockouts tbody tr").await.text().await.expect("row");
        assert!(locked.contains(&realface_server::idcard::mask(common::ID_CARD)), "{locked}");
        assert!(!locked.contains(common::ID_CARD), "{locked}");
        // the given-up webhook, with its button
        let given_up = wait("#webhooks tbody tr").await.text().await.expect("row");
        let event = failed["eventId"].as_str().expect("eventId");
        assert!(given_up.contains(event) && given_up.contains(&id), "{given_up}");
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(shot.join(&file), &png).expect("write the screenshot");
        assert!(png.len() > 10_000, "a real screenshot");
        c.find(Locator::Css("#lockouts button.lift")).await.expect("lift").click().await.expect("click");
        let t = Instant::now();
        while !c.find_all(Locator::Css("#lockouts tbody tr")).await.expect("rows").is_empty() {
            assert!(t.elapsed() < Duration::from_secs(30), "the lift did not clear the row");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        hook.set(common::receiver::OK);
        c.find(Locator::Css("#webhooks button.redeliver")).await.expect("redeliver").click().await.expect("click");
        let t = Instant::now();
        while !c.find_all(Locator::Css("#webhooks tbody tr")).await.expect("rows").is_empty() {
            assert!(t.elapsed() < Duration::from_secs(30), "the redelivery did not clear the row");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.close().await.expect("close");
    });
    assert_eq!(
        admin_get(&s, "/v1/admin/lockouts")["lockouts"],
        json!([]),
        "lifted in the console"
    );
    let (status, v) = s.post_json(
        "/v1/certify",
        &json!({"realName": "Test", "idCard": common::ID_CARD,
                "reference": {"photo": common::b64(&clip_file("blinkdet_video", "frame_0001.jpg"))}}),
    );
    assert_eq!(status, 200, "certify after the lift: {v}");
    let got = hook.wait_for(30, |d| d.iter().any(|x| x.answered == 200));
    assert!(
        got.iter().any(|x| x.answered == 200 && x.event_id() == failed["eventId"].as_str().unwrap_or("-")),
        "delivered again from the console: {got:?}"
    );
    eprintln!("screenshot: {}", shot.join(&file).display());
}
