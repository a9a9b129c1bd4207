// Streams a chat completion the way the seeds' web client does: fetch, then read the body with a
// ReadableStream reader and a TextDecoder, chunk by chunk. Each `data:` line of the event stream is an OpenAI
// `chat.completion.chunk`; its delta text is appended as it arrives, until `data: [DONE]`.
'use strict';

let controller = null;

function setStatus(text) {
  document.getElementById('status').textContent = text;
}

// Handles one complete event-stream line; returns false at `data: [DONE]`.
function handleLine(line, output) {
  if (!line.startsWith('data:')) {
    return true; // comments (": keep-alive"), blank separators, other fields
  }

  const data = line.slice(5).trim();
  if (data === '[DONE]') {
    return false;
  }

  const chunk = JSON.parse(data);
  const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
  if (delta && delta.content) {
    output.textContent += delta.content;
  }

  if (chunk.usage) {
    setStatus('tokens: ' + chunk.usage.total_tokens);
  }

  return true;
}

async function stream(prompt, key, output) {
  controller = new AbortController();
  const headers = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
  if (key) {
    headers['X-API-Key'] = key;
  }

  const response = await fetch('/v1/chat/completions', {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'toy-chat', stream: true, max_tokens: 64, messages: [{ role: 'user', content: prompt }] }),
    signal: controller.signal,
  });

  if (!response.ok) {
    // Every error of the edge is application/problem+json (RFC 9457).
    const problem = await response.json().catch(() => ({}));
    const retry = response.headers.get('Retry-After');
    setStatus(response.status + ' ' + (problem.title || response.statusText) + (problem.detail ? ': ' + problem.detail : '')
      + (retry ? ' (retry after ' + retry + ' s)' : ''));
    return;
  }

  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      break;
    }

    pending += decoder.decode(value, { stream: true });
    const lines = pending.split('\n');
    pending = lines.pop(); // an incomplete line waits for the next chunk
    for (const line of lines) {
      if (!handleLine(line.replace(/\r$/, ''), output)) {
        setStatus(document.getElementById('status').textContent + ' done');
        return;
      }
    }
  }
}

document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('chat');
  const send = document.getElementById('send');
  const stop = document.getElementById('stop');
  const output = document.getElementById('output');

  stop.addEventListener('click', () => controller && controller.abort());
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    output.textContent = '';
    setStatus('streaming...');
    send.disabled = true;
    stop.disabled = false;
    try {
      await stream(document.getElementById('prompt').value, document.getElementById('key').value.trim(), output);
    } catch (error) {
      setStatus(error.name === 'AbortError' ? 'stopped' : 'error: ' + error.message);
    } finally {
      send.disabled = false;
      stop.disabled = true;
    }
  });
  document.body.dataset.ready = 'true';
});
