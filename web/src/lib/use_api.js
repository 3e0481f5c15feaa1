// A page's data from one GET: {data, error, reload, setData}. Loaded when the path changes (a null
// path loads nothing); `reload` after the page changed something, or `setData` when the change's
// answer is the page's data already.
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
  return { data, error, reload, setData };
}

// The store's metric names (at most 5,000), fetched once per page load and shared by the pages
// that offer them (the panel editor, the explorer).
let metricNames = null;

export function useMetricNames() {
  const [names, setNames] = useState(metricNames || []);
  useEffect(() => {
    if (metricNames) return;
    get('/api/v1/label/__name__/values')
      .then((r) => {
        metricNames = r.data.slice(0, 5000);
        setNames(metricNames);
      })
      .catch(() => {});
  }, []);
  return names;
}
