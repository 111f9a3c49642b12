// AssemblyAI's official JS SDK against earmark: upload + transcribe + get (+ list paging and a
// bad key). Prints one JSON object on stdout for tests/server/test_server_sdk_js.py to check.
// Usage: EARMARK_URL=http://127.0.0.1:8000 EARMARK_KEY=... AUDIO_PATH=jfk.flac node sdk_flow.mjs
import { AssemblyAI } from "assemblyai";

const { EARMARK_URL, EARMARK_KEY, AUDIO_PATH } = process.env;
if (!EARMARK_URL || !EARMARK_KEY || !AUDIO_PATH) {
  console.error("set EARMARK_URL, EARMARK_KEY and AUDIO_PATH");
  process.exit(2);
}
const client = new AssemblyAI({ apiKey: EARMARK_KEY, baseUrl: EARMARK_URL });
const polling = { pollingInterval: 100, pollingTimeout: 120000 };
const pick = (t) => ({
  id: t.id,
  status: t.status,
  error: t.error ?? null,
  text: t.text,
  words: t.words ? t.words.length : null,
  firstWord: t.words && t.words.length ? t.words[0] : null,
  audio_duration: t.audio_duration,
  speech_model: t.speech_model,
  speech_models: t.speech_models,
  speech_model_used: t.speech_model_used,
});

// files.upload streams the file (chunked, application/octet-stream)
const uploadUrl = await client.files.upload(AUDIO_PATH);
const transcribed = await client.transcripts.transcribe(
  { audio: uploadUrl, speech_models: ["universal-3-pro"] },
  polling,
);
const fetched = await client.transcripts.get(transcribed.id);
// transcribe() with a local path uploads it first
const direct = await client.transcripts.transcribe({ audio: AUDIO_PATH }, polling);
// list, then follow prev_url verbatim (it must be absolute on this server)
const page = await client.transcripts.list({ limit: 1 });
const older = page.page_details.prev_url
  ? await client.transcripts.list(page.page_details.prev_url)
  : null;

let badKeyError = null;
try {
  await new AssemblyAI({ apiKey: "not-a-key", baseUrl: EARMARK_URL }).transcripts.get(transcribed.id);
} catch (err) {
  badKeyError = String(err.message);
}

console.log(
  JSON.stringify({
    uploadUrl,
    transcribed: pick(transcribed),
    fetched: pick(fetched),
    direct: pick(direct),
    page: page.transcripts.map((t) => t.id),
    prevUrl: page.page_details.prev_url,
    older: older ? older.transcripts.map((t) => t.id) : null,
    badKeyError,
  }),
);
