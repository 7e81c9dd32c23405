// Starts the real service (`tradia serve`) with the LLM simulator, on 127.0.0.1 and free ports.
export async function startRealServer() {
  throw new Error('the real server is not wired yet: run with TRADIA_BROWSER_SERVER=mock');
}
