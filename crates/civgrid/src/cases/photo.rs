//! Metadata stripped from case photos before they are stored (and so before they are served):
//! a phone's photo carries where it was taken (EXIF GPS), when, and the device, in the image's
//! container, not in its pixels. The containers are rewritten without those parts and the image
//! data is kept byte for byte (no re-encoding, no loss of quality).
//!
//! Removed: JPEG APP1 (EXIF, XMP), APP13 (IPTC) and comments; PNG eXIf, tEXt, zTXt, iTXt and
//! tIME; WebP EXIF and XMP. Kept: what draws the image (JFIF, the colour profile, Adobe's colour
//! transform, the pixel data). An image whose container cannot be read is refused.

use bytes::Bytes;
use img_parts::jpeg::{markers, Jpeg};
use img_parts::png::Png;
use img_parts::webp::{WebP, CHUNK_XMP};
use img_parts::ImageEXIF;

/// JPEG segments that carry metadata and never pixels.
const JPEG_METADATA: [u8; 3] = [markers::APP1, markers::APP13, markers::COM];
/// PNG chunks that carry metadata and never pixels.
const PNG_METADATA: [[u8; 4]; 5] = [*b"eXIf", *b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"];

/// The photo of type `sniffed` (as [`super::sniff_image`] named it) without its metadata;
/// `None` when its container cannot be read.
pub fn without_metadata(sniffed: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    let input = Bytes::copy_from_slice(bytes);
    let out = match sniffed {
        "image/jpeg" => {
            let mut jpeg = Jpeg::from_bytes(input).ok()?;
            jpeg.segments_mut().retain(|s| !JPEG_METADATA.contains(&s.marker()));
            jpeg.encoder().bytes()
        }
        "image/png" => {
            let mut png = Png::from_bytes(input).ok()?;
            png.chunks_mut().retain(|c| !PNG_METADATA.contains(&c.kind()));
            png.encoder().bytes()
        }
        "image/webp" => {
            let mut webp = WebP::from_bytes(input).ok()?;
            webp.remove_chunks_by_id(CHUNK_XMP);
            // Also corrects the VP8X header's flags for what is left.
            webp.set_exif(None);
            webp.encoder().bytes()
        }
        _ => return None,
    };
    Some(out.to_vec())
}

#[cfg(test)]
mod tests {
    use super::without_metadata;

    /// A JPEG segment: marker, length, contents.
    fn segment(marker: u8, contents: &[u8]) -> Vec<u8> {
        let len = u16::try_from(contents.len() + 2).expect("short segment");
        let mut s = vec![0xFF, marker];
        s.extend(len.to_be_bytes());
        s.extend(contents);
        s
    }

    #[test]
    fn a_jpeg_loses_its_exif_and_keeps_its_pixels() {
        let mut exif = b"Exif\0\0MM\0*".to_vec();
        exif.extend(b"GPSLatitude 23.0312 GPSLongitude 113.1214");
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        jpeg.extend(segment(0xE1, &exif));
        jpeg.extend(segment(0xFE, b"taken at home"));
        jpeg.extend(segment(0xDA, &[1, 2, 3]));
        let pixels = [9u8, 8, 7, 6, 0xFF, 0xD9];
        jpeg.extend(pixels);
        let out = without_metadata("image/jpeg", &jpeg).expect("readable");
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("GPS") && !text.contains("Exif") && !text.contains("taken at home"), "{text}");
        assert!(text.contains("JFIF"));
        assert!(out.ends_with(&pixels), "the pixel data is kept byte for byte");
        assert_eq!(without_metadata("image/jpeg", &out).as_deref(), Some(out.as_slice()), "nothing more to strip");
    }

    #[test]
    fn a_png_loses_its_text_and_exif_chunks() {
        fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
            let mut c = u32::try_from(data.len()).expect("short").to_be_bytes().to_vec();
            c.extend(kind);
            c.extend(data);
            let mut crc_input = kind.to_vec();
            crc_input.extend(data);
            c.extend(crc32(&crc_input).to_be_bytes());
            c
        }
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        png.extend(chunk(b"tEXt", b"Location\0Foshan 23.03N"));
        png.extend(chunk(b"eXIf", b"MM\0*GPS"));
        png.extend(chunk(b"IDAT", &[1, 2, 3]));
        png.extend(chunk(b"IEND", &[]));
        let out = without_metadata("image/png", &png).expect("readable");
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("Foshan") && !text.contains("GPS"), "{text}");
        assert!(text.contains("IHDR") && text.contains("IDAT") && text.contains("IEND"));
    }

    #[test]
    fn an_unreadable_container_is_refused() {
        assert_eq!(without_metadata("image/jpeg", &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2]), None);
        assert_eq!(without_metadata("image/png", b"\x89PNG\r\n\x1a\nxx"), None);
        assert_eq!(without_metadata("image/webp", b"RIFF\0\0\0\0WEBP"), None);
    }

    /// CRC-32 (IEEE), as PNG chunks carry it.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
