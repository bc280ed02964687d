/** Where the gateway is. The server that serves this client answers
 * `/web-config.json` with the gateway's port (and a full URL when it knows one);
 * without it the gateway is assumed on this host at port 3001 (`layer4 dev`'s default). */

interface WebConfig {
  gateway_url?: string | null;
  gateway_port?: number | null;
  gateway_tls?: boolean | null;
}

export async function gatewayUrl(): Promise<string> {
  let config: WebConfig = {};
  try {
    const res = await fetch("/web-config.json");
    if (res.ok) config = (await res.json()) as WebConfig;
  } catch {
    // fall back to the defaults below
  }
  const query = "?v=1&encoding=msgpack";
  if (config.gateway_url) return `${config.gateway_url}${query}`;
  const tls = config.gateway_tls ?? location.protocol === "https:";
  const port = config.gateway_port ?? 3001;
  return `${tls ? "wss" : "ws"}://${location.hostname}:${port}/gateway${query}`;
}
