// Room displays: read the JSON feed every `refresh` seconds (a 304 while nothing changed), keep
// the last data when requests fail and say since when, and move "now" and "next" on at each minute.
"use strict";
(() => {
    const config = JSON.parse(document.getElementById("display-config").textContent);
    const labels = config.labels;
    const zone = { timeZone: config.timeZone };
    const timeFormat = new Intl.DateTimeFormat(config.locale, { hour: "2-digit", minute: "2-digit", ...zone });
    const dateFormat = new Intl.DateTimeFormat(config.locale, { weekday: "long", day: "numeric", month: "long", ...zone });
    const dayParts = new Intl.DateTimeFormat("en", { year: "numeric", month: "2-digit", day: "2-digit", ...zone });
    const content = document.querySelector("[data-content]");
    const staleNotice = document.querySelector("[data-stale]");
    const answers = new Map(); // URL -> {etag, body}: what a 304 stands for
    let today = null; // {day, events, rooms} of the last successful poll
    let lastSuccess = null;
    let failing = false;
    // Kiosks' clocks drift: the server's clock (its Date header) says what "now" is, when they differ.
    let clockOffset = 0;
    const now = () => new Date(Date.now() + clockOffset);

    const format = (template, values) => template.replace(/%\((\w+)\)s/g, (_match, name) => values[name]);
    const hhmm = (date) => timeFormat.format(date);
    /** The feed's local day of `date` as YYYY-MM-DD, from its parts (no locale's date layout assumed). */
    function localDay(date) {
        const parts = Object.fromEntries(dayParts.formatToParts(date).map((part) => [part.type, part.value]));
        return `${parts.year}-${parts.month}-${parts.day}`;
    }

    function element(tag, className, text) {
        const node = document.createElement(tag);
        if (className) node.className = className;
        if (text !== undefined) node.textContent = text;
        return node;
    }

    // The token travels in a header: a query string would write it to the server's log at every poll.
    const feedUrl = (suffix, params) => `${config.feedPath}${suffix}?${new URLSearchParams(params)}`;

    async function fetchJson(url) {
        const known = answers.get(url);
        const headers = { Authorization: `Bearer ${config.token}`, ...(known ? { "If-None-Match": known.etag } : {}) };
        // A request that hangs (a half-open connection) counts as failed, so the next poll happens.
        const signal = AbortSignal.timeout(Math.min(config.refresh, 20) * 1000);
        const response = await fetch(url, { credentials: "omit", cache: "no-store", headers, signal });
        const served = Date.parse(response.headers.get("Date")) + 500; // the header is to the second
        if (!Number.isNaN(served)) clockOffset = Math.abs(served - Date.now()) > 2000 ? served - Date.now() : 0;
        if (response.status === 304 && known) return known.body;
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        const body = await response.json();
        answers.set(url, { etag: response.headers.get("ETag"), body });
        return body;
    }

    let polling = false;
    async function poll() {
        if (polling) return;
        polling = true;
        const day = localDay(now());
        const period = { from: day, to: day };
        try {
            const events = await fetchJson(feedUrl(".json", config.room ? { room: config.room, ...period } : period));
            const rooms = config.room ? null : (await fetchJson(feedUrl("/rooms.json", period))).rooms;
            today = {
                day,
                rooms,
                events: events.events.map((event) => ({
                    title: event.activity.title,
                    start: new Date(event.eventStart),
                    end: new Date(event.eventEnd),
                    rooms: event.rooms.map((room) => room.code),
                })),
            };
            for (const url of answers.keys()) if (!url.includes(`from=${day}`)) answers.delete(url);
            lastSuccess = now();
            failing = false;
        } catch {
            failing = true;
        } finally {
            polling = false;
        }
        render();
    }

    /** What a room is doing at `moment`: the booking under way, and the ones still to come. */
    function roomState(events, moment) {
        const sorted = events.filter((event) => event.end > moment).sort((a, b) => a.start - b.start);
        return { current: sorted.find((event) => event.start <= moment), upcoming: sorted.filter((event) => event.start > moment) };
    }

    function freeText(upcoming) {
        return upcoming.length ? format(labels.freeUntil, { time: hhmm(upcoming[0].start) }) : labels.freeRestOfDay;
    }

    /** A line of `template` filled with `values`: its `%(title)s` ends in an ellipsis when short of room, the rest stays whole. */
    function lineWithTitle(className, template, values) {
        const line = element("div", className);
        const [before, after = ""] = template.split("%(title)s");
        if (before.trim()) line.append(element("span", "whole", format(before, values).trim()));
        line.append(element("span", "truncate", values.title));
        if (after.trim()) line.append(element("span", "whole", format(after, values).trim()));
        return line;
    }

    const wholeLine = (className, text) => {
        const line = element("div", className);
        line.append(element("span", "whole", text));
        return line;
    };

    function renderSign(moment) {
        const { current, upcoming } = roomState(today.events, moment);
        const block = element("section", current ? "now busy" : "now");
        if (current) {
            block.append(
                element("div", "state", format(labels.inUseUntil, { time: hhmm(current.end) })),
                element("div", "now-title clamp", current.title),
                element("div", "now-time", `${hhmm(current.start)} – ${hhmm(current.end)}`),
            );
        } else {
            block.append(element("div", "state", freeText(upcoming)));
        }
        const later = element("section", "later");
        later.append(element("h2", "", labels.laterToday));
        if (upcoming.length) {
            const list = element("ol");
            for (const event of upcoming.slice(0, 6)) {
                const item = element("li");
                item.append(element("span", "when", `${hhmm(event.start)} – ${hhmm(event.end)}`), element("span", "clamp", event.title));
                list.append(item);
            }
            later.append(list);
        } else {
            later.append(element("p", "empty", labels.nothingLater));
        }
        content.replaceChildren(block, later);
        keepWhatFits(later);
    }

    /** Drop the last bookings of "Later today" that do not fit whole, rather than cut one in half. */
    function keepWhatFits(later) {
        const list = later.querySelector("ol");
        while (list?.children.length && later.scrollHeight > later.clientHeight) list.lastElementChild.remove();
        if (later.scrollHeight > later.clientHeight) later.replaceChildren();
    }

    function roomCard(room, moment) {
        const { current, upcoming } = roomState(today.events.filter((event) => event.rooms.includes(room.code)), moment);
        const card = element("article", current ? "room busy" : "room");
        card.dataset.room = room.code;
        const name = element("div", "room-name");
        name.append(element("span", "truncate", room.name));
        card.append(
            name,
            current
                ? lineWithTitle("room-state", `${labels.inUseUntil} · %(title)s`, { time: hhmm(current.end), title: current.title })
                : wholeLine("room-state", freeText(upcoming)),
            upcoming.length
                ? lineWithTitle("room-next", labels.next, { time: hhmm(upcoming[0].start), title: upcoming[0].title })
                : wholeLine("room-next", labels.nothingLater),
            wholeLine("room-count", format(labels.bookingsToday, { count: room.eventCount })),
        );
        return card;
    }

    // Board: every room on one screen when each card can be read whole at a readable size, else pages of rooms.
    const PAGE_SECONDS = 8;
    const PROBE_FONT = 100; // px: cards are measured at this size, then scaled (everything in a card is in em)
    const SHORTEST_TITLE = 3; // em: what a line keeps of a title before it ends in an ellipsis
    const pager = document.querySelector("[data-pager]");
    let page = 0;

    /** The width and height (in em of the card's type) that the widest and tallest of `cards` need. */
    function cardNeeds(cards) {
        const probe = element("div");
        probe.style.cssText = `position: absolute; visibility: hidden; top: 0; left: 0; width: 40em; font-size: ${PROBE_FONT}px`;
        probe.append(...cards);
        document.body.append(probe);
        let width = 0;
        let height = 0;
        for (const card of cards) {
            const style = getComputedStyle(card);
            const frame = ["borderLeftWidth", "paddingLeft", "paddingRight", "borderRightWidth"].reduce((sum, side) => sum + parseFloat(style[side]), 0);
            for (const line of card.children) {
                const parts = [...line.children];
                const lineFont = parseFloat(getComputedStyle(line).fontSize);
                const gaps = (parts.length - 1) * (parseFloat(getComputedStyle(line).columnGap) || 0);
                const needed = parts.reduce((sum, part) => sum + (part.classList.contains("whole") ? part.getBoundingClientRect().width : SHORTEST_TITLE * lineFont), gaps);
                width = Math.max(width, needed + frame);
            }
            height = Math.max(height, card.getBoundingClientRect().height);
        }
        probe.remove();
        return { width: width / PROBE_FONT, height: height / PROBE_FONT };
    }

    /** Columns, rows, type size and pages for `count` cards that each need `need` (em) in the content's box. */
    function boardGrid(count, need) {
        const box = content.getBoundingClientRect();
        const gap = parseFloat(getComputedStyle(content).rowGap) || 0;
        const vmin = Math.min(innerWidth, innerHeight) / 100;
        const smallest = Math.max(14, 2.4 * vmin);
        const largest = 6 * vmin;
        const better = (a, b) => {
            if (a.font >= smallest !== b.font >= smallest) return a.font >= smallest;
            if (a.font < smallest || a.pages === b.pages) return a.font > b.font;
            return a.pages < b.pages;
        };
        let best = null;
        for (let columns = 1; columns <= count; columns += 1) {
            for (let rows = 1; rows <= Math.ceil(count / columns); rows += 1) {
                const cardWidth = (box.width - (columns - 1) * gap) / columns;
                const cardHeight = (box.height - (rows - 1) * gap) / rows;
                const font = Math.floor(Math.min(cardWidth / need.width, cardHeight / need.height, largest));
                const grid = { columns, rows, font, pages: Math.ceil(count / (columns * rows)) };
                if (!best || better(grid, best)) best = grid;
            }
        }
        return best;
    }

    /** Every card shows each line whole (its titles may end in an ellipsis). */
    const cardsFit = () =>
        [...content.children].every((card) => card.scrollHeight <= card.clientHeight && [...card.children].every((line) => line.scrollWidth <= line.clientWidth));

    function renderBoard(moment) {
        const cards = today.rooms.map((room) => roomCard(room, moment));
        if (!cards.length) {
            pager.hidden = true;
            return content.replaceChildren();
        }
        const grid = boardGrid(cards.length, cardNeeds(cards));
        page = page % grid.pages;
        const perPage = grid.columns * grid.rows;
        content.style.setProperty("--columns", grid.columns);
        content.style.setProperty("--rows", grid.rows);
        content.replaceChildren(...cards.slice(page * perPage, (page + 1) * perPage));
        // Rounding can leave a card a pixel short: a smaller type then, never a line cut.
        for (let font = grid.font; font > 6; font -= 1) {
            content.style.setProperty("--card-font", `${font}px`);
            if (cardsFit()) break;
        }
        pager.hidden = grid.pages === 1;
        // A page turn every few seconds is no news: screen readers announce changes of a single page only.
        content.setAttribute("aria-live", grid.pages === 1 ? "polite" : "off");
        pager.textContent = format(labels.page, { page: page + 1, pages: grid.pages });
        Object.assign(pager.dataset, { page: page + 1, pages: grid.pages });
    }

    function turnPage() {
        page += 1;
        render();
    }

    function render() {
        const moment = now();
        document.querySelector("[data-clock]").textContent = hhmm(moment);
        document.querySelector("[data-date]").textContent = dateFormat.format(moment);
        const current = today && today.day === localDay(moment);
        // The notice first: the content is laid out in the room the notice leaves.
        staleNotice.hidden = !failing; // a new day without a failure: its poll is on its way
        const since = lastSuccess && (current ? hhmm(lastSuccess) : `${dateFormat.format(lastSuccess)} ${hhmm(lastSuccess)}`);
        staleNotice.textContent = since ? format(labels.stale, { time: since }) : labels.noData;
        if (current) {
            (config.room ? renderSign : renderBoard)(moment);
        } else if (today) {
            content.replaceChildren(); // a new day: yesterday's bookings say nothing about it
        }
    }

    function onEachMinute() {
        if (today && today.day !== localDay(now())) poll(); // the new day's bookings, now
        render();
        setTimeout(onEachMinute, 60000 - (now().getTime() % 60000) + 20);
    }

    poll();
    setInterval(poll, config.refresh * 1000);
    addEventListener("online", poll);
    addEventListener("resize", render);
    if (!config.room) {
        let pageTimer = setInterval(turnPage, PAGE_SECONDS * 1000);
        // A touch screen turns the page at a tap, and the next turn waits its full time again.
        addEventListener("click", () => {
            clearInterval(pageTimer);
            pageTimer = setInterval(turnPage, PAGE_SECONDS * 1000);
            turnPage();
        });
    }
    onEachMinute();
})();
