//! Photos of events (report, before, after): JPEG, PNG or WebP, at most 10 MB each and 9 per
//! event, decoded whole before they are kept (a file that only starts like an image — a JPEG
//! header before an HTML page — is refused), stored once on disk by their SHA-256, and given back
//! only to those who may see the event.

use crate::context::Context;
use crate::error::{AppError, AppResult, ErrorKind};
use crate::events::queries::attachment_view;
use crate::events::views::AttachmentView;
use crate::events::{flow_of, load};
use crate::principal::Principal;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use uuid::Uuid;
use wangge_store::{AttachmentRow, EventRow};

/// A photo's bytes, as the body of an upload or a download.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Photo(pub Vec<u8>);

pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_PER_EVENT: usize = 9;
/// A phone's largest photos are about 50 million pixels; a picture of more is a decompression
/// bomb (a few hundred kilobytes that unpack to gigabytes), not a photo.
const MAX_PIXELS: u64 = 50_000_000;
const MAX_SIDE: u32 = 12_000;
/// Decoding takes memory (up to 4 bytes a pixel) and a core: a few at a time, the rest wait.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The type of some bytes if they are a whole JPEG, PNG or WebP image, decoded to the last pixel
/// within bounds of size and memory (its size is read from its header before anything is
/// unpacked).
pub fn decode(bytes: &[u8]) -> Option<&'static str> {
    use image::ImageFormat;
    let format = image::guess_format(bytes).ok()?;
    let mime = match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        ImageFormat::WebP => "image/webp",
        _ => return None,
    };
    let reader = || image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let (w, h) = reader().into_dimensions().ok()?;
    if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return None;
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(4 * MAX_PIXELS + 64 * 1024 * 1024);
    let mut full = reader();
    full.limits(limits);
    full.decode().ok().map(|_| mime)
}

fn too_many() -> AppError {
    AppError::conflict(
        "attachment.too_many",
        format!("每个事件最多 {MAX_PER_EVENT} 张照片"),
    )
}

fn path_of(ctx: &Context, sha: &str) -> PathBuf {
    ctx.files.join(&sha[..2]).join(sha)
}

/// Keeps a photo of an event in sight; `kind` is `report`, `before` or `after`.
pub async fn upload(
    ctx: &Context,
    who: &Principal,
    id: &str,
    kind: Option<&str>,
    bytes: Vec<u8>,
) -> AppResult<AttachmentView> {
    let e = load(ctx, who, id).await?;
    let kind = kind.unwrap_or("report");
    may_add(ctx, &e, kind, bytes.len()).await?;
    let bytes = std::sync::Arc::new(bytes);
    let mime = decode_in_turn(bytes.clone()).await?;
    let sha = keep(ctx, &bytes)?;
    let row = AttachmentRow {
        id: Uuid::now_v7(),
        sha256: sha,
        mime: mime.into(),
        size: bytes.len() as i64,
        kind: kind.into(),
        uploaded_by: who.actor_name(),
        uploaded_at: ctx.now(),
    };
    if !ctx
        .store
        .insert_attachment(&e, &row, MAX_PER_EVENT as i64)
        .await?
    {
        return Err(too_many());
    }
    ctx.store
        .append_audit(
            &who.audit(
                "event.attachment",
                Some("event"),
                Some(e.id.to_string()),
                json!({"kind": kind, "size": row.size}),
            ),
            row.uploaded_at,
        )
        .await?;
    Ok(attachment_view(&e, &row))
}

/// What can be refused before a photo is decoded: its kind, its event's state, its size, and
/// the count (the insert counts again, under a lock).
async fn may_add(ctx: &Context, e: &EventRow, kind: &str, len: usize) -> AppResult<()> {
    if !matches!(kind, "report" | "before" | "after") {
        return Err(
            AppError::invalid("attachment.bad_kind", "kind 应为 report、before 或 after")
                .at("kind"),
        );
    }
    if !flow_of(e)?.state.is_open() {
        return Err(AppError::conflict(
            "attachment.event_finished",
            "事件已办结，不能再添加照片",
        ));
    }
    if len > MAX_BYTES {
        return Err(AppError::new(
            ErrorKind::TooLarge,
            "attachment.too_large",
            "照片不能超过 10 MB",
        ));
    }
    if ctx.store.attachments(e).await?.len() >= MAX_PER_EVENT {
        return Err(too_many());
    }
    Ok(())
}

/// Decodes off the async threads, a few photos at a time.
async fn decode_in_turn(bytes: std::sync::Arc<Vec<u8>>) -> AppResult<&'static str> {
    let permit = DECODING
        .acquire()
        .await
        .map_err(|_| AppError::internal("internal", "服务器内部错误"))?;
    let decoded = tokio::task::spawn_blocking(move || decode(&bytes)).await;
    drop(permit);
    decoded.ok().flatten().ok_or_else(|| {
        AppError::invalid(
            "attachment.not_an_image",
            "只接受完整的 JPEG、PNG 或 WebP 照片（按文件内容解码判断）",
        )
    })
}

/// Writes the photo under its SHA-256 once (renamed into place, so a reader never sees half a
/// file) and answers the digest.
fn keep(ctx: &Context, bytes: &[u8]) -> AppResult<String> {
    let sha = wangge_security::crypto::hex(&Sha256::digest(bytes));
    let path = path_of(ctx, &sha);
    if path.exists() {
        return Ok(sha);
    }
    let write = || -> std::io::Result<()> {
        let dir = path
            .parent()
            .ok_or_else(|| std::io::Error::other("no directory"))?;
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{sha}.{}", Uuid::now_v7().simple()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|err| {
        tracing::error!(error = %err, "cannot store an attachment");
        AppError::new(
            ErrorKind::Unavailable,
            "attachment.storage",
            "照片暂时无法保存，请稍后再试",
        )
    })?;
    Ok(sha)
}

/// A photo's bytes and type, for those who may see its event.
pub async fn download(
    ctx: &Context,
    who: &Principal,
    id: &str,
    attachment: &str,
) -> AppResult<(String, Vec<u8>)> {
    let e = load(ctx, who, id).await?;
    let missing = || AppError::not_found("attachment.not_found", "照片不存在");
    let wanted: Uuid = attachment.trim().parse().map_err(|_| missing())?;
    let a = ctx
        .store
        .attachments(&e)
        .await?
        .into_iter()
        .find(|a| a.id == wanted)
        .ok_or_else(missing)?;
    let bytes = tokio::fs::read(path_of(ctx, &a.sha256))
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "attachment file missing");
            missing()
        })?;
    Ok((a.mime, bytes))
}

#[cfg(test)]
mod tests {
    use super::decode;

    fn png() -> Vec<u8> {
        let img = image::RgbImage::from_pixel(2, 2, image::Rgb([200, 30, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    /// PNG's CRC-32 (of a chunk's type and data).
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in bytes {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn only_whole_images_pass() {
        assert_eq!(decode(&png()), Some("image/png"));
        // A JPEG's first bytes before an HTML page: told apart only by decoding.
        let mut fake = vec![0xFF, 0xD8, 0xFF, 0xE0];
        fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert_eq!(decode(&fake), None);
        let mut cut = png();
        cut.truncate(cut.len() / 2);
        assert_eq!(decode(&cut), None);
        // A bomb: a small file whose header claims 15,000 × 15,000 pixels (900 MB unpacked) is
        // refused from its header, before anything is unpacked.
        let mut bomb = png();
        bomb[16..20].copy_from_slice(&15_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&15_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        assert!(
            image::ImageReader::with_format(std::io::Cursor::new(&bomb), image::ImageFormat::Png)
                .into_dimensions()
                .is_ok_and(|d| d == (15_000, 15_000))
        );
        assert_eq!(decode(&bomb), None);
        assert_eq!(decode(b"GIF89a"), None);
    }
}
