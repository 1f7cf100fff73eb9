import sharp from 'sharp';

/** The sizes a last-rendered image is kept in, and the box each one fits in. */
export const THUMBNAIL_SIZES = {
  full: { maxPx: 1920, quality: 85 },
  small: { maxPx: 640, quality: 80 },
  tiny: { maxPx: 160, quality: 70 },
} as const;

export type ThumbnailSize = keyof typeof THUMBNAIL_SIZES;

/** Every size name, in a stable order. */
export const THUMBNAIL_SIZE_NAMES = Object.keys(THUMBNAIL_SIZES) as ThumbnailSize[];

// A worker sends at most a 1920-pixel JPEG or a PNG up to the upload limit; a decompression bomb
// beyond ~8K x 5K pixels is refused instead of taking the manager's memory.
const MAX_INPUT_PIXELS = 40_000_000;

/**
 * Makes the JPEG of each size from a PNG or JPEG image: fitted inside its box, never enlarged,
 * rotated by its EXIF orientation, flattened on black (JPEG has no alpha).
 * @throws when sharp cannot decode the image.
 */
export async function makeThumbnails(image: Buffer): Promise<Record<ThumbnailSize, Buffer>> {
  const base = sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .flatten({ background: '#000000' });
  const made = await Promise.all(
    THUMBNAIL_SIZE_NAMES.map(async (size) => {
      const { maxPx, quality } = THUMBNAIL_SIZES[size];
      const bytes = await base
        .clone()
        .resize({ width: maxPx, height: maxPx, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality, mozjpeg: false })
        .toBuffer();
      return [size, bytes] as const;
    }),
  );
  return Object.fromEntries(made) as Record<ThumbnailSize, Buffer>;
}
