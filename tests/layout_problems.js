// In the page of a room display: what is wrong with its layout now, as sentences (none when all is well).
// Each text's lines (their glyph boxes, so a cut descender counts) are checked against every box that
// clips them. A line hidden whole below a line clamp, or the part of a line beyond an ellipsis, is
// what was meant; a line cut in half, or wider than a box with no ellipsis, is not.
(smallest) => {
    const problems = [];
    const slack = 0.5;
    const said = (node, what) => {
        const where = node.parentElement.className || node.parentElement.tagName;
        problems.push(`${what}: <${where}> "${node.textContent.trim().slice(0, 40)}"`);
    };
    const paddingBox = (element) => {
        if (element === document.documentElement) return { top: 0, left: 0, bottom: innerHeight, right: innerWidth };
        const rect = element.getBoundingClientRect();
        const top = rect.top + element.clientTop, left = rect.left + element.clientLeft;
        return { top, left, bottom: top + element.clientHeight, right: left + element.clientWidth };
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const text = walker.currentNode;
        const parent = text.parentElement;
        if (!text.textContent.trim() || parent.closest("script, [hidden]")) continue;
        if (parseFloat(getComputedStyle(parent).fontSize) < smallest) said(text, "type too small");
        const range = document.createRange();
        range.selectNodeContents(text);
        let lines = [...range.getClientRects()].filter((line) => line.width > 0 && line.height > 0);
        for (let box = parent; box && lines.length; box = box.parentElement) {
            const style = getComputedStyle(box);
            if (box !== document.documentElement && style.overflowX === "visible" && style.overflowY === "visible") continue;
            const edges = paddingBox(box);
            const clamped = style.webkitLineClamp !== "none" && style.webkitLineClamp !== "";
            const ellipsis = style.textOverflow === "ellipsis";
            const shown = [];
            for (const line of lines) {
                const below = line.top >= edges.bottom - slack;
                const inside = line.top >= edges.top - slack && line.bottom <= edges.bottom + slack;
                if (below && clamped) continue; // a line after the clamp's last: hidden whole, the ellipsis says so
                if (!inside) { said(text, "cut vertically"); continue; }
                if (line.left < edges.left - slack || line.right > edges.right + slack) {
                    if (!ellipsis && !clamped) said(text, "wider than its box");
                    if (line.left >= edges.right - slack) continue;
                }
                // What the box lets through goes on to the boxes around it.
                shown.push({ top: line.top, bottom: line.bottom, left: Math.max(line.left, edges.left), right: Math.min(line.right, edges.right) });
            }
            lines = shown;
        }
    }
    const root = document.documentElement;
    if (root.scrollWidth > innerWidth || root.scrollHeight > innerHeight) problems.push("the page scrolls");
    return [...new Set(problems)];
}
