// The dashboard grid: 12 columns, rows of fixed height. After a panel is moved or resized, the
// panels it now covers are pushed down, then every panel rises as far as it can (no gaps), so a
// layout never has two panels on one cell (the server refuses that).
export const COLUMNS = 12;
export const MAX_HEIGHT = 24;

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

// `panels` with `fixedId` where it is and the rest placed around it (new objects).
export function settle(panels, fixedId) {
  const fixed = panels.find((p) => p.id === fixedId);
  const others = panels
    .filter((p) => p.id !== fixedId)
    .map((p) => ({ ...p }))
    .sort((a, b) => a.y - b.y || a.x - b.x);
  const placed = fixed ? [{ ...fixed }] : [];
  for (const p of others) {
    // Down until it is clear of everything placed.
    let moved = true;
    while (moved) {
      moved = false;
      for (const q of placed) {
        if (overlaps(p, q)) {
          p.y = q.y + q.h;
          moved = true;
        }
      }
    }
    placed.push(p);
  }
  return compact(placed);
}

// Every panel as high as it can go, in order of rows.
export function compact(panels) {
  const out = [];
  for (const p of [...panels].sort((a, b) => a.y - b.y || a.x - b.x)) {
    const q = { ...p };
    while (q.y > 0 && !out.some((o) => overlaps({ ...q, y: q.y - 1 }, o))) q.y -= 1;
    out.push(q);
  }
  return out;
}

// Where a new panel of `w` × `h` goes: below everything.
export function bottom(panels) {
  return panels.reduce((m, p) => Math.max(m, p.y + p.h), 0);
}

export function clamp(v, lo, hi) {
  return Math.max(lo, Math.min(hi, v));
}
