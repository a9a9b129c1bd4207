// Consumes POST /v1/chat/completions (stream: true) of the sample at argv[2] twice: with the official OpenAI SDK
// (authenticating with the API key argv[3], sent as "Authorization: Bearer"), and with an anonymous browser-style
// fetch reader (response.body.getReader() + TextDecoder). Prints one JSON line.
import OpenAI from "openai";

const baseURL = process.argv[2];
const apiKey = process.argv[3];
const maxTokens = 5;
const messages = [{ role: "user", content: "Say hello" }];

async function withSdk() {
  const client = new OpenAI({ baseURL: new URL("v1", baseURL).toString(), apiKey, maxRetries: 0 });
  const started = performance.now();
  const stream = await client.chat.completions.create({
    model: "toy-chat",
    messages,
    stream: true,
    max_tokens: maxTokens,
    stream_options: { include_usage: true },
  });
  let chunks = 0;
  let content = "";
  let usage = null;
  let role = null;
  let finishReason = null;
  let firstChunkMs = null;
  for await (const chunk of stream) {
    if (chunk.object !== "chat.completion.chunk") throw new Error("unexpected object " + chunk.object);
    firstChunkMs ??= performance.now() - started;
    chunks++;
    const choice = chunk.choices[0];
    if (choice) {
      role ??= choice.delta.role ?? null;
      content += choice.delta.content ?? "";
      finishReason = choice.finish_reason ?? finishReason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  return { chunks, content, usage, role, finishReason, firstChunkMs, totalMs: performance.now() - started };
}

async function withFetchReader() {
  const started = performance.now();
  const response = await fetch(new URL("v1/chat/completions", baseURL), {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", "accept-encoding": "gzip, br" },
    body: JSON.stringify({ model: "toy-chat", messages, stream: true, max_tokens: maxTokens }),
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let reads = 0;
  let firstReadMs = null;
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    firstReadMs ??= performance.now() - started;
    reads++;
    text += decoder.decode(value, { stream: true });
  }
  const events = text.split("\n\n").filter((block) => block.length > 0);
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    contentEncoding: response.headers.get("content-encoding"),
    reads,
    events: events.length,
    last: events.at(-1),
    firstReadMs,
    totalMs: performance.now() - started,
  };
}

const result = { sdk: await withSdk(), fetch: await withFetchReader() };
console.log(JSON.stringify(result));
