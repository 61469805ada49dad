// Icons as inline SVG (no icon font, nothing fetched). The channels' glyphs come from the server's
// channel registry (channels.js); the desk's own glyphs are here.

const SVG = "http://www.w3.org/2000/svg";

// 24×24 glyphs, drawn for this desk.
const PATHS = {
  clock: ["M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20Zm0 2.2a7.8 7.8 0 1 0 0 15.6 7.8 7.8 0 0 0 0-15.6ZM11 6.5h2v5.1l3.6 2.1-1 1.7-4.6-2.7V6.5Z"],
  lock: ["M7 10V7a5 5 0 0 1 10 0v3h-2V7a3 3 0 0 0-6 0v3H7Z", "M5 10h14v11H5V10Zm6 3v5h2v-5h-2Z"],
};

// An <svg> of these path data (24×24 grid, even-odd fill), in `color` or the text's colour.
export function drawIcon(paths, size = 16, color = "currentColor") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", size);
  svg.setAttribute("height", size);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of paths) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", color || "currentColor");
    path.setAttribute("fill-rule", "evenodd");
    svg.append(path);
  }
  return svg;
}

export function svgIcon(name, size = 16) {
  return drawIcon(PATHS[name] || [], size);
}
