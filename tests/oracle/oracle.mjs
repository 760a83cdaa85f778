// The independent side of the tokenizer and chat-template tests, run by node from the test host.
//   node oracle.mjs encode MODEL_DIR STRINGS.json OUT.json   ids of each string (add_special_tokens: false), and ms spent encoding
//   node oracle.mjs render REQUESTS.json OUT.json              each request {template, variables} rendered by @huggingface/jinja
//   node oracle.mjs unassigned POINTS.json OUT.json            which code points node's Unicode tables leave unassigned
// MODEL_DIR holds tokenizer.json and tokenizer_config.json. Errors are written as {"error": "..."} per item.
import fs from "node:fs";
import { TokenizerLoader } from "@lenml/tokenizers";
import { Template } from "@huggingface/jinja";

const [mode, ...args] = process.argv.slice(2);
if (mode === "encode") {
  const [dir, input, output] = args;
  const tokenizer = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`, "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(`${dir}/tokenizer_config.json`, "utf8")),
  });
  const strings = JSON.parse(fs.readFileSync(input, "utf8"));
  tokenizer.encode("warm up", { add_special_tokens: false });
  const start = process.hrtime.bigint();
  const ids = strings.map((s) => tokenizer.encode(s, { add_special_tokens: false }));
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  fs.writeFileSync(output, JSON.stringify({ ms, ids }));
} else if (mode === "unassigned") {
  // Which of these code points node's own Unicode tables leave unassigned (\p{Cn}): its version may be newer than .NET's.
  const [input, output] = args;
  const points = JSON.parse(fs.readFileSync(input, "utf8"));
  fs.writeFileSync(output, JSON.stringify({ unicode: process.versions.unicode, unassigned: points.filter((p) => /\p{Cn}/u.test(String.fromCodePoint(p))) }));
} else if (mode === "render") {
  const [input, output] = args;
  const requests = JSON.parse(fs.readFileSync(input, "utf8"));
  const cache = new Map();
  const results = requests.map(({ template, variables }) => {
    try {
      if (!cache.has(template)) cache.set(template, new Template(template));
      return { text: cache.get(template).render(variables) };
    } catch (e) {
      return { error: String(e && e.message || e) };
    }
  });
  fs.writeFileSync(output, JSON.stringify(results));
} else {
  console.error("usage: node oracle.mjs encode MODEL_DIR STRINGS.json OUT.json | render REQUESTS.json OUT.json");
  process.exit(2);
}
