import { registry } from "@web/core/registry";

const disabledState = ["ics", "json"].flatMap((kind) => [
    {
        content: `The ${kind} link is shown greyed out, not as a link`,
        trigger: `.o_external_calendar_${kind}:not(:has(a)) .o_external_calendar_${kind}_link_disabled:contains(public_calendar.${kind}?token=)`,
    },
    {
        content: `The ${kind} Copy button is disabled`,
        trigger: `.o_external_calendar_${kind}_copy button:disabled`,
    },
]);

const enabledState = ["ics", "json"].flatMap((kind) => [
    {
        content: `The ${kind} link is a working link`,
        trigger: `.o_external_calendar_${kind}:not(:has(.o_external_calendar_${kind}_link_disabled)) .o_external_calendar_${kind}_link a[href*="public_calendar.${kind}?token="]`,
    },
    {
        content: `The ${kind} Copy button is enabled`,
        trigger: `.o_external_calendar_${kind}_copy button:enabled`,
    },
    {
        content: `An info icon explains the ${kind} link`,
        trigger: `.o_external_calendar_${kind}_info[title]`,
    },
]);

registry.category("web_tour.tours").add("external_calendar_settings_tour", {
    url: "/odoo/action-external_calendar_api.external_calendar_settings_action",
    steps: () => [
        ...disabledState,
        {
            content: "Enable the API endpoint",
            trigger: ".o_field_widget[name=external_calendar_enabled] input",
            run: "click",
        },
        {
            content: "Save the settings",
            trigger: ".o_form_button_save",
            run: "click",
            expectUnloadPage: true,
        },
        ...enabledState,
        {
            content: "The Refresh button is offered",
            trigger: "button[name=action_external_calendar_refresh]",
        },
    ],
});
