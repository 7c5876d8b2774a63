//! Avatars of users and groups: the crop rule. The picture is cut from one of the owner's own
//! image uploads and stored as a [`AVATAR_SIDE`]² WebP (a media record of its own), so clients
//! never have to crop or scale.

use crate::error::ValidationError;
use serde::Deserialize;

/// Side of the stored square avatar, in pixels.
pub const AVATAR_SIDE: u32 = 512;

/// A rectangle in pixels of the stored (already orientation-corrected) image.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Crop {
    /// The rectangle to cut from a `w`×`h` image: `requested`, checked to lie inside it, or by
    /// default the centred largest square. A non-square rectangle is later filled (centre
    /// cropped), never stretched.
    pub fn resolve(requested: Option<Crop>, w: u32, h: u32) -> Result<Crop, ValidationError> {
        let Some(c) = requested else {
            let side = w.min(h);
            return Ok(Crop {
                x: (w - side) / 2,
                y: (h - side) / 2,
                width: side,
                height: side,
            });
        };
        let inside = c.width > 0
            && c.height > 0
            && c.x.checked_add(c.width).is_some_and(|r| r <= w)
            && c.y.checked_add(c.height).is_some_and(|b| b <= h);
        if !inside {
            return Err(ValidationError::new(
                "avatar_crop",
                "invalid_crop",
                format!("the crop must be a non-empty rectangle inside the {w}×{h} image"),
            ));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crop(x: u32, y: u32, width: u32, height: u32) -> Crop {
        Crop {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn default_is_the_centred_largest_square() {
        assert_eq!(
            Crop::resolve(None, 400, 200).unwrap(),
            crop(100, 0, 200, 200)
        );
        assert_eq!(Crop::resolve(None, 30, 90).unwrap(), crop(0, 30, 30, 30));
        assert_eq!(Crop::resolve(None, 7, 7).unwrap(), crop(0, 0, 7, 7));
    }

    #[test]
    fn requested_crops_must_fit() {
        assert_eq!(
            Crop::resolve(Some(crop(200, 0, 200, 200)), 400, 200).unwrap(),
            crop(200, 0, 200, 200)
        );
        for bad in [
            crop(201, 0, 200, 200),
            crop(0, 1, 200, 200),
            crop(0, 0, 0, 10),
            crop(0, 0, 10, 0),
            crop(u32::MAX, 0, 2, 2),
            crop(0, u32::MAX, 2, 2),
        ] {
            let e = Crop::resolve(Some(bad), 400, 200).unwrap_err();
            assert_eq!(e.code, "invalid_crop", "{bad:?}");
        }
    }
}
