// Builds the web app and GraphiQL into server/web/static, the folder the Python package
// serves and ships. Run `npm ci && node build.mjs` in web/ after changing anything here;
// a Python test (tests/web/test_assets.py) recomputes the sources hash below and fails
// when the committed build is stale, so CI never needs Node.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const web = dirname(fileURLToPath(import.meta.url));
const out = join(web, "..", "server", "web", "static");

// Every file under web/ but node_modules, in byte order of its POSIX path: one line
// "path\0sha256(content)\n" each, hashed again. server/web/assets.py does the same.
function sourcesHash() {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name !== "node_modules") walk(full);
      } else {
        files.push(relative(web, full).split(sep).join("/"));
      }
    }
  };
  walk(web);
  files.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const total = createHash("sha256");
  for (const file of files) {
    const digest = createHash("sha256").update(readFileSync(join(web, file))).digest("hex");
    total.update(`${file}\0${digest}\n`);
  }
  return total.digest("hex");
}

const common = {
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  outdir: out,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  metafile: true,
  jsx: "automatic",
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
};

// Separate builds: the app renders with Preact, GraphiQL with React.
const builds = [
  { entryPoints: { app: "src/app/main.tsx" }, jsxImportSource: "preact" },
  { entryPoints: { graphiql: "src/graphiql/main.tsx" }, jsxImportSource: "react" },
];

execFileSync(join(web, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", web], {
  stdio: "inherit",
});
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const files = {};
for (const build of builds) {
  const result = await esbuild.build({ ...common, ...build, absWorkingDir: web });
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    const name = path.split("/").pop();
    if (output.entryPoint || name.endsWith(".css")) {
      const logical = `${Object.keys(build.entryPoints)[0]}.${name.split(".").pop()}`;
      files[logical] = name;
    }
  }
}
writeFileSync(
  join(out, "manifest.json"),
  `${JSON.stringify({ sourcesHash: sourcesHash(), files }, null, 2)}\n`,
);
console.log(`built ${Object.values(files).join(", ")} into ${relative(process.cwd(), out)}`);
