// Parses each .tf file given with HashiCorp's HCL parser (npm @cdktf/hcl2json,
// compiled to WASM) and prints {"FILE": JSON, ...}; exit 1 on the first error.
// NODE_PATH must hold the node_modules @cdktf/hcl2json was installed into.
"use strict";
const fs = require("fs");
const { parse } = require("@cdktf/hcl2json");

(async () => {
  const out = {};
  for (const file of process.argv.slice(2)) {
    try {
      out[file] = await parse(file, fs.readFileSync(file, "utf8"));
    } catch (e) {
      console.error(`${file}: ${e && e.message ? e.message : e}`);
      process.exit(1);
    }
  }
  process.stdout.write(JSON.stringify(out));
})();
