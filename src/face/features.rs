//! Per-frame facial measurements from the 468-point mesh: eye aspect ratios,
//! mouth opening, head pose (yaw, pitch, roll) and face size. Pure geometry.
//!
//! Head pose comes from the mesh's 3-D points (x right, y down, z away from the
//! camera, all in image pixels): the face's outward normal is the cross product
//! of the cheek-to-cheek and forehead-to-chin vectors. Signs, for an
//! **unmirrored** camera image: yaw > 0 when the nose points to the image's
//! right (the person turned to their own LEFT); pitch > 0 when the face looks
//! up; roll > 0 when the eye line tilts clockwise in the image.

use serde::Serialize;

use crate::face::landmarks::Mesh;

/// Eye contour points for the aspect ratio: (corner a, corner b, upper 1, lower 1, upper 2, lower 2).
const RIGHT_EYE: [usize; 6] = [33, 133, 160, 144, 158, 153];
const LEFT_EYE: [usize; 6] = [263, 362, 387, 373, 385, 380];
const MOUTH_INNER: [usize; 2] = [13, 14];
const MOUTH_CORNERS: [usize; 2] = [61, 291];
const CHEEKS: [usize; 2] = [234, 454];
const FOREHEAD: usize = 10;
const CHIN: usize = 152;
const NOSE_TIP: usize = 1;

/// Measurements of one face in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct FrameFeatures {
    /// Subject's right eye aspect ratio (lid distance / eye width).
    pub ear_right: f32,
    /// Subject's left eye aspect ratio.
    pub ear_left: f32,
    /// Mean of both eyes.
    pub ear: f32,
    /// Mouth opening: inner-lip distance / mouth width.
    pub mar: f32,
    /// Yaw in degrees (see module docs for the sign).
    pub yaw: f32,
    /// Pitch in degrees, positive looking up.
    pub pitch: f32,
    /// Roll in degrees.
    pub roll: f32,
    /// Cheek-to-cheek distance in pixels (face size).
    pub face_width: f32,
    /// Nose offset: the nose tip's horizontal position between the two face
    /// outline points, after removing roll, from -1 (at the image-left cheek)
    /// through 0 (centred) to 1 (at the image-right cheek). Purely 2-D, so a
    /// flat photo turned in depth (which keeps the nose centred between its
    /// own outline) barely moves it, while a real head turn does.
    pub nose_offset: f32,
    /// Vertical nose offset: the nose tip's position between forehead and
    /// chin, -1 (forehead) .. 1 (chin). A real nod moves it; a flat photo
    /// tilted in depth barely does.
    pub nose_offset_v: f32,
    /// Face aspect: forehead-to-chin over cheek-to-cheek distance in the image.
    /// Eye and mouth ratios are divided by it, so that tilting a flat photo
    /// (which shrinks the whole face vertically) does not look like a blink.
    pub face_aspect: f32,
    /// Probability that both eyes are closed, from the eye-state model
    /// ([`crate::liveness::eye_state`]); 0 where it was not measured (the
    /// mesh alone cannot see a blink reliably).
    pub eyes_closed: f32,
    /// Detail of the aligned face: log(1 + variance of its Laplacian); 0
    /// where not measured. A blink closes the eyes of a sharp face; motion
    /// blur (a shaken picture) makes open eyes look closed to the eye model
    /// and drops this.
    pub sharpness: f32,
}

impl FrameFeatures {
    /// Eye aspect ratio corrected for the face's foreshortening.
    pub fn ear_norm(&self) -> f32 {
        if self.face_aspect > 1e-3 {
            self.ear / self.face_aspect
        } else {
            0.0
        }
    }

    /// Mouth ratio corrected for the face's foreshortening.
    pub fn mar_norm(&self) -> f32 {
        if self.face_aspect > 1e-3 {
            self.mar / self.face_aspect
        } else {
            0.0
        }
    }
}

fn p3(m: &Mesh, i: usize) -> [f32; 3] {
    m.points.get(i).copied().unwrap_or([0.0; 3])
}

fn dist2(m: &Mesh, a: usize, b: usize) -> f32 {
    m.point(a).dist(m.point(b))
}

fn ear(m: &Mesh, idx: &[usize; 6]) -> f32 {
    let width = dist2(m, idx[0], idx[1]);
    if width <= 1e-3 {
        return 0.0;
    }
    (dist2(m, idx[2], idx[3]) + dist2(m, idx[4], idx[5])) / (2.0 * width)
}

/// Where `p` projects on the segment a-b: -1 at a, 1 at b.
fn project(
    a: crate::imaging::geometry::Point,
    b: crate::imaging::geometry::Point,
    p: crate::imaging::geometry::Point,
) -> f32 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    if len2 > 1e-6 {
        2.0 * ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 - 1.0
    } else {
        0.0
    }
}

fn sub(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn cross(a: [f32; 3], b: [f32; 3]) -> [f32; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

impl FrameFeatures {
    /// Measures a mesh.
    pub fn from_mesh(m: &Mesh) -> FrameFeatures {
        let ear_right = ear(m, &RIGHT_EYE);
        let ear_left = ear(m, &LEFT_EYE);
        let mouth_w = dist2(m, MOUTH_CORNERS[0], MOUTH_CORNERS[1]);
        let mar = if mouth_w > 1e-3 {
            dist2(m, MOUTH_INNER[0], MOUTH_INNER[1]) / mouth_w
        } else {
            0.0
        };
        let nose_offset_v = project(m.point(FOREHEAD), m.point(CHIN), m.point(NOSE_TIP));
        let across = sub(p3(m, CHEEKS[1]), p3(m, CHEEKS[0]));
        let down = sub(p3(m, CHIN), p3(m, FOREHEAD));
        let n = cross(across, down);
        // outward normal (toward the camera for a frontal face)
        let o = [-n[0], -n[1], -n[2]];
        let yaw = o[0].atan2(-o[2]).to_degrees();
        let pitch = (-o[1])
            .atan2((o[0] * o[0] + o[2] * o[2]).sqrt())
            .to_degrees();
        let roll = across[1].atan2(across[0]).to_degrees();
        let face_width = (across[0] * across[0] + across[1] * across[1]).sqrt();
        let face_height = (down[0] * down[0] + down[1] * down[1]).sqrt();
        let face_aspect = if face_width > 1e-3 {
            face_height / face_width
        } else {
            0.0
        };
        let nose_offset = project(m.point(CHEEKS[0]), m.point(CHEEKS[1]), m.point(NOSE_TIP));
        FrameFeatures {
            ear_right,
            ear_left,
            ear: 0.5 * (ear_right + ear_left),
            mar,
            yaw: if yaw.is_finite() { yaw } else { 0.0 },
            pitch: if pitch.is_finite() { pitch } else { 0.0 },
            roll: if roll.is_finite() { roll } else { 0.0 },
            face_width,
            nose_offset,
            nose_offset_v,
            face_aspect,
            eyes_closed: 0.0,
            sharpness: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::landmarks::Roi;
    use crate::imaging::geometry::Point;

    /// A head of the mesh's shape, turned by `yaw` about the vertical axis and
    /// by `pitch` about the horizontal one (degrees; positive = the person
    /// turns to their own left / looks up), centred at (200, 200).
    fn head(yaw: f32, pitch: f32) -> Mesh {
        let mut points = vec![[0.0f32; 3]; 468];
        let model: [(usize, [f32; 3]); 5] = [
            (CHEEKS[0], [-50.0, 0.0, 0.0]),
            (CHEEKS[1], [50.0, 0.0, 0.0]),
            (FOREHEAD, [0.0, -60.0, 0.0]),
            (CHIN, [0.0, 60.0, 0.0]),
            (NOSE_TIP, [0.0, 0.0, -30.0]),
        ];
        let (sy, cy) = yaw.to_radians().sin_cos();
        let (sp, cp) = pitch.to_radians().sin_cos();
        for (i, [x, y, z]) in model {
            // yaw: the nose (z < 0, toward the camera) moves to the image's right
            let (x1, z1) = (x * cy - z * sy, x * sy + z * cy);
            // pitch: the nose moves up the image (y decreases)
            let (y2, z2) = (y * cp + z1 * sp, -y * sp + z1 * cp);
            points[i] = [200.0 + x1, 200.0 + y2, z2];
        }
        Mesh {
            points,
            presence: 1.0,
            roi: Roi {
                center: Point::new(200.0, 200.0),
                side: 300.0,
                angle: 0.0,
            },
        }
    }

    #[test]
    fn yaw_and_pitch_signs_follow_the_documented_convention() {
        let front = FrameFeatures::from_mesh(&head(0.0, 0.0));
        assert!(
            front.yaw.abs() < 0.5 && front.pitch.abs() < 0.5,
            "{front:?}"
        );
        assert!(front.nose_offset.abs() < 0.01);
        let left = FrameFeatures::from_mesh(&head(25.0, 0.0));
        assert!(
            (left.yaw - 25.0).abs() < 1.0,
            "own left = positive yaw: {left:?}"
        );
        assert!(left.nose_offset > 0.2, "nose toward the image's right");
        let right = FrameFeatures::from_mesh(&head(-25.0, 0.0));
        assert!((right.yaw + 25.0).abs() < 1.0, "{right:?}");
        assert!(right.nose_offset < -0.2);
        let up = FrameFeatures::from_mesh(&head(0.0, 15.0));
        assert!(
            (up.pitch - 15.0).abs() < 1.0,
            "looking up = positive pitch: {up:?}"
        );
        assert!(
            up.nose_offset_v < front.nose_offset_v,
            "the nose moves toward the forehead"
        );
        let down = FrameFeatures::from_mesh(&head(0.0, -15.0));
        assert!((down.pitch + 15.0).abs() < 1.0, "{down:?}");
    }

    #[test]
    fn degenerate_meshes_give_finite_zeros() {
        let empty = Mesh {
            points: Vec::new(),
            presence: 0.0,
            roi: Roi {
                center: Point::new(0.0, 0.0),
                side: 1.0,
                angle: 0.0,
            },
        };
        let f = FrameFeatures::from_mesh(&empty);
        for v in [
            f.ear,
            f.mar,
            f.yaw,
            f.pitch,
            f.roll,
            f.ear_norm(),
            f.mar_norm(),
        ] {
            assert!(v.is_finite() && v == 0.0, "{f:?}");
        }
    }
}
