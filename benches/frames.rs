//! Camera frame conversion at 1280x720 (a phone's analysis stream): each
//! layout a camera hands over into the pipeline's RGB, and the turn upright.
//! No models, no data set: synthetic planes of the right size.

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use realface::imaging::frame::{frame_from_buffer, PixelFormat};
use realface::imaging::limits::Limits;
use realface::imaging::yuv::{orient, Plane, Rotation, Yuv420};

const W: u32 = 1280;
const H: u32 = 720;

fn frames(c: &mut Criterion) {
    let (w, h) = (W as usize, H as usize);
    let l = Limits::default();
    // CameraX pads rows; 1280 is already aligned, as on most phones
    let y: Vec<u8> = (0..w * h).map(|i| (i * 7 % 251) as u8).collect();
    let uv: Vec<u8> = (0..w * h / 2).map(|i| (i * 13 % 241) as u8).collect();
    let (u, v): (Vec<u8>, Vec<u8>) = (uv[..w * h / 4].to_vec(), uv[w * h / 4..].to_vec());
    let bgra: Vec<u8> = (0..w * h * 4).map(|i| (i % 255) as u8).collect();
    let mut g = c.benchmark_group("frames_1280x720");
    g.throughput(Throughput::Elements(1));
    g.bench_function("nv12", |b| {
        b.iter(|| Yuv420::nv12(W, H, &y, w, &uv, w).to_rgb(&l).expect("nv12"))
    });
    g.bench_function("nv21", |b| {
        b.iter(|| Yuv420::nv21(W, H, &y, w, &uv, w).to_rgb(&l).expect("nv21"))
    });
    g.bench_function("yuv420_planar", |b| {
        b.iter(|| {
            Yuv420::planes(
                W,
                H,
                Plane::new(&y, w, 1),
                Plane::new(&u, w / 2, 1),
                Plane::new(&v, w / 2, 1),
            )
            .to_rgb(&l)
            .expect("planar")
        })
    });
    g.bench_function("yuv420_camerax_pixel_stride_2", |b| {
        b.iter(|| {
            Yuv420::planes(
                W,
                H,
                Plane::new(&y, w, 1),
                Plane::new(&uv, w, 2),
                Plane::new(&uv[1..], w, 2),
            )
            .to_rgb(&l)
            .expect("camerax")
        })
    });
    g.bench_function("bgra", |b| {
        b.iter(|| frame_from_buffer(&bgra, W, H, w * 4, PixelFormat::Bgra, &l).expect("bgra"))
    });
    // a front camera held upright: turned 90 degrees and mirrored, in the
    // conversion's one pass, and as a second pass over the converted image
    g.bench_function("nv21_upright_90_mirror", |b| {
        b.iter(|| {
            Yuv420::nv21(W, H, &y, w, &uv, w)
                .to_rgb_upright(&l, Rotation::R90, true)
                .expect("nv21")
        })
    });
    let rgb = Yuv420::nv21(W, H, &y, w, &uv, w).to_rgb(&l).expect("nv21");
    g.bench_function("orient_after_90_mirror", |b| {
        b.iter(|| orient(rgb.clone(), Rotation::R90, true))
    });
    g.finish();
}

criterion_group! { name = benches; config = common::config(); targets = frames }
criterion_main!(benches);
