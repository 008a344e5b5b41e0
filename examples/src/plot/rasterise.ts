/**
 * SVG to PNG with a real rasteriser (resvg, as WebAssembly: no native build) and a real font
 * (DejaVu Sans, matplotlib's default), so every picture is drawn once, as SVG, and the PNG is
 * that drawing rasterised: same layout, same text, anti-aliased.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initWasm, Resvg } from '@resvg/resvg-wasm';

const require = createRequire(import.meta.url);

/** The family the SVGs ask for as `sans-serif` resolves to. */
export const FONT_FAMILY = 'DejaVu Sans';

let ready: Promise<Uint8Array[]> | undefined;

/** Starts resvg's wasm module and reads the fonts, once per process. */
function start(): Promise<Uint8Array[]> {
  ready ??= (async () => {
    await initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));
    // resvg reads TrueType/OpenType only (not woff2), hence the ttf package.
    return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map(
      (file) => new Uint8Array(readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${file}`))),
    );
  })();
  return ready;
}

/** Options for {@link svgToPng}. */
export interface RasteriseOptions {
  /** Pixels per SVG unit; 2 (the default) gives sharp pictures on high-density screens. */
  scale?: number;
}

/** Rasterises an SVG document to a PNG file's bytes. */
export async function svgToPng(svg: string, options: RasteriseOptions = {}): Promise<Buffer> {
  const fontBuffers = await start();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: options.scale ?? 2 },
    font: { fontBuffers, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  try {
    const image = resvg.render();
    try {
      return Buffer.from(image.asPng());
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}
