// A page's data from one GET: {data, error, reload}. Loaded when the path changes (a null path
// loads nothing); `reload` after the page changed something.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get } from './api.js';

export function useApi(path) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const reload = useCallback(async () => {
    if (!path) return;
    try {
      const r = await get(path);
      setData(r.data);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [path]);
  useEffect(() => {
    reload();
  }, [reload]);
  return { data, error, reload };
}
