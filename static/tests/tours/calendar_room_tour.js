import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

registry.category("web_tour.tours").add("calendar_room_menu_tour", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open Calendar",
            trigger: '.o_app[data-menu-xmlid="calendar.mail_menu_calendar"]',
            run: "click",
        },
        {
            content: "Open the Configuration menu",
            trigger: '.o_menu_sections [data-menu-xmlid="calendar.calendar_menu_config"]',
            run: "click",
        },
        {
            content: "Open Rooms",
            trigger: '.dropdown-item[data-menu-xmlid="external_calendar_api.calendar_room_menu"]',
            run: "click",
        },
        {
            content: "Open the room from the list",
            trigger: ".o_list_view .o_data_row td:contains(TSIM1)",
            run: "click",
        },
        {
            content: "Set the capacity",
            trigger: ".o_form_view div[name=capacity] input",
            run: "edit 10",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});
