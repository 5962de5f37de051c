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

    function renderSign(moment) {
        const { current, upcoming } = roomState(today.events, moment);
        const block = element("section", current ? "now busy" : "now");
        if (current) {
            block.append(
                element("div", "state", format(labels.inUseUntil, { time: hhmm(current.end) })),
                element("div", "now-title truncate", current.title),
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
                item.append(element("span", "when", `${hhmm(event.start)} – ${hhmm(event.end)}`), element("span", "truncate", event.title));
                list.append(item);
            }
            later.append(list);
        } else {
            later.append(element("p", "empty", labels.nothingLater));
        }
        content.replaceChildren(block, later);
    }

    function renderBoard(moment) {
        const rooms = today.rooms;
        const columns = Math.max(1, Math.round(Math.sqrt((rooms.length * innerWidth) / (innerHeight * 2.2))));
        const rows = Math.max(1, Math.ceil(rooms.length / columns));
        content.style.setProperty("--columns", columns);
        content.style.setProperty("--card-font", `${Math.min(3.2, 13 / rows)}vmin`);
        content.replaceChildren(
            ...rooms.map((room) => {
                const { current, upcoming } = roomState(today.events.filter((event) => event.rooms.includes(room.code)), moment);
                const card = element("article", current ? "room busy" : "room");
                card.dataset.room = room.code;
                card.append(
                    element("div", "room-name truncate", room.name),
                    element("div", "room-state truncate",
                        current ? `${format(labels.inUseUntil, { time: hhmm(current.end) })} · ${current.title}` : freeText(upcoming)),
                    element("div", "room-next truncate",
                        upcoming.length ? format(labels.next, { time: hhmm(upcoming[0].start), title: upcoming[0].title }) : labels.nothingLater),
                    element("div", "room-count", format(labels.bookingsToday, { count: room.eventCount })),
                );
                return card;
            }),
        );
    }

    function render() {
        const moment = now();
        document.querySelector("[data-clock]").textContent = hhmm(moment);
        document.querySelector("[data-date]").textContent = dateFormat.format(moment);
        const current = today && today.day === localDay(moment);
        if (current) {
            (config.room ? renderSign : renderBoard)(moment);
        } else if (today) {
            content.replaceChildren(); // a new day: yesterday's bookings say nothing about it
        }
        staleNotice.hidden = !failing; // a new day without a failure: its poll is on its way
        const since = lastSuccess && (current ? hhmm(lastSuccess) : `${dateFormat.format(lastSuccess)} ${hhmm(lastSuccess)}`);
        staleNotice.textContent = since ? format(labels.stale, { time: since }) : labels.noData;
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
    onEachMinute();
})();
