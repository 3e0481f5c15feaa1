// A list's selected rows (the bulk actions of the alerts console, the device list and a
// discovery scan): [selected, setSelected, toggle(id)].
import { useState } from 'preact/hooks';

export function useSelection() {
  const [selected, setSelected] = useState(new Set());
  const toggle = (id) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  return [selected, setSelected, toggle];
}
