// workerd's entry module: instantiates the Worker's wasm (wasm-bindgen `--target web` output,
// `index.js` + `index_bg.wasm`) and hands `fetch(request, env, ctx)` to the runtime.
import { initSync, fetch } from "./index.js";
import wasm from "./index_bg.wasm";
initSync({ module: wasm });
export default { fetch };
