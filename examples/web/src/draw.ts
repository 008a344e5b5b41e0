/** Canvas drawings: the spirals decision boundary and digit samples (the charts are in charts.ts). */

/** Class colours: light for regions, strong for points. */
const REGION = [
  '#fde2c8',
  '#cfe3f7',
  '#d6efd0',
  '#f3d3ec',
  '#eee8c4',
  '#d4d4f2',
  '#c9eeee',
  '#f2d0d0',
  '#e0e0e0',
  '#e8dcc8',
];
const POINT = [
  '#e8710a',
  '#1a73e8',
  '#188038',
  '#c5198d',
  '#a58a00',
  '#5a4fcf',
  '#12838c',
  '#c5221f',
  '#5f6368',
  '#8d6e3f',
];

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  return ctx;
}

/** Blanks a canvas (the model views after a reset). */
export function clearCanvas(canvas: HTMLCanvasElement): void {
  context(canvas).clearRect(0, 0, canvas.width, canvas.height);
}

/** A labelled 2D point set. */
export interface Points {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** The predicted class of each `grid × grid` cell over `[-extent, extent]²` (row 0 at the top), with the points on top. */
export function drawBoundary(
  canvas: HTMLCanvasElement,
  cells: Int32Array,
  grid: number,
  extent: number,
  points: Points[],
): void {
  const ctx = context(canvas);
  const { width: w, height: h } = canvas;
  const img = ctx.createImageData(grid, grid);
  const rgb = REGION.map((c) => [1, 3, 5].map((i) => Number.parseInt(c.slice(i, i + 2), 16)));
  for (let i = 0; i < grid * grid; i++) {
    const [r, g, b] = rgb[cells[i] % rgb.length];
    img.data.set([r, g, b, 255], i * 4);
  }
  // Scale the grid up through a temporary canvas; smoothing off keeps the class edges crisp.
  const tmp = document.createElement('canvas');
  tmp.width = grid;
  tmp.height = grid;
  context(tmp).putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, w, h);
  for (const p of points) {
    for (let i = 0; i < p.n; i++) {
      const px = ((p.x[2 * i] + extent) / (2 * extent)) * w;
      const py = ((extent - p.x[2 * i + 1]) / (2 * extent)) * h;
      ctx.fillStyle = POINT[p.y[i] % POINT.length];
      ctx.beginPath();
      ctx.arc(px, py, 2.2, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

/** Cell centres of a `grid × grid` raster over `[-extent, extent]²`, row 0 at the top. */
export function gridCells(grid: number, extent: number): Float32Array<ArrayBuffer> {
  const cells = new Float32Array(grid * grid * 2);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      cells[(r * grid + c) * 2] = -extent + ((c + 0.5) / grid) * 2 * extent;
      cells[(r * grid + c) * 2 + 1] = extent - ((r + 0.5) / grid) * 2 * extent;
    }
  }
  return cells;
}

/** `images` (28×28 each, [0, 1]) in a row-major tile grid, each captioned with its prediction (green right, red wrong). */
export function drawDigits(
  canvas: HTMLCanvasElement,
  images: Float32Array,
  labels: Int32Array,
  predictions: Int32Array | null,
  columns: number,
): void {
  const ctx = context(canvas);
  const count = labels.length;
  const tile = Math.floor(canvas.width / columns);
  const scale = Math.floor((tile - 4) / 28);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = 'bold 12px system-ui, sans-serif';
  for (let k = 0; k < count; k++) {
    const ox = (k % columns) * tile + 2;
    const oy = Math.floor(k / columns) * (tile + 16) + 2;
    const img = ctx.createImageData(28 * scale, 28 * scale);
    for (let y = 0; y < 28 * scale; y++) {
      for (let x = 0; x < 28 * scale; x++) {
        const v =
          255 - Math.round(255 * images[k * 784 + Math.floor(y / scale) * 28 + Math.floor(x / scale)]);
        img.data.set([v, v, v, 255], (y * 28 * scale + x) * 4);
      }
    }
    ctx.putImageData(img, ox, oy);
    if (predictions) {
      const ok = predictions[k] === labels[k];
      ctx.fillStyle = ok ? '#188038' : '#c5221f';
      ctx.fillText(
        ok ? `${predictions[k]}` : `${predictions[k]} (is ${labels[k]})`,
        ox,
        oy + 28 * scale + 13,
      );
    }
  }
}
