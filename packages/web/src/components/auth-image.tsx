import { useEffect, useState } from 'react';
import { useServices } from '../app-context';

/**
 * An image from the API. `<img src>` cannot send the bearer token, so the image is fetched with
 * it and shown from an object URL (freed when the image changes).
 */
export function AuthImage(props: { src: string; alt: string; className?: string }) {
  const { api } = useServices();
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let objectUrl: string | null = null;
    let cancelled = false;
    setFailed(false);
    api
      .raw(props.src)
      .then((response) => response.blob())
      .then((blob) => {
        if (cancelled) return;
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      })
      .catch(() => {
        if (!cancelled) setFailed(true);
      });
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [api, props.src]);
  if (failed) return <span className="muted">The image could not be loaded.</span>;
  if (!url) return <span className="image-placeholder" aria-busy="true" />;
  return <img src={url} alt={props.alt} className={props.className} />;
}
