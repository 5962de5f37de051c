import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("external_calendar_feed_key_tour", {
    url: "/odoo/action-external_calendar_api.external_calendar_settings_action",
    steps: () => [
        {
            content: "Make a new feed key",
            trigger: "button[name=action_external_calendar_new_key]",
            run: "click",
        },
        {
            content: "Say who the key is for",
            trigger: ".modal .o_field_widget[name=name] input",
            run: "edit Tour display",
        },
        {
            content: "Limit it to one room",
            trigger: ".modal .o_field_widget[name=room_ids] input",
            run: "edit Sim Room 1",
        },
        {
            content: "Choose the room",
            trigger: ".o-autocomplete--dropdown-item:contains(Sim Room 1)",
            run: "click",
        },
        {
            content: "Create the key",
            trigger: ".modal .o_external_calendar_key_create",
            run: "click",
        },
        {
            content: "The dialog says the links are shown only once",
            trigger: ".modal .o_external_calendar_key_once:contains(will not be shown again)",
        },
        {
            content: "The ICS link of the key is shown, with a Copy button",
            trigger: ".modal .o_external_calendar_key_ics:has(button) .o_external_calendar_key_ics_link:contains(public_calendar.ics?token=)",
        },
        {
            content: "One-click subscribe links are offered",
            trigger: ".modal .o_field_widget[name=google_url] a[href*='calendar.google.com']",
        },
        {
            content: "Close the dialog",
            trigger: ".modal .o_external_calendar_key_done",
            run: "click",
        },
        {
            content: "The key is listed on the settings page, with its rooms",
            trigger: ".o_external_calendar_keys tr:contains(Tour display):contains(Sim Room 1)",
        },
        {
            content: "Revoke it",
            trigger: ".o_external_calendar_keys tr:contains(Tour display) .o_external_calendar_key_revoke",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal:contains(stop working) .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The revoked key is no longer listed",
            trigger: "body:not(:has(.o_external_calendar_keys tr:contains(Tour display)))",
        },
    ],
});
