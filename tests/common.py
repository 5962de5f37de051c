from datetime import datetime

from odoo.tests import new_test_user


class RoomBookingCase:
    """Rooms and users shared by the test classes (mixed into an Odoo test case)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Room = cls.env["calendar.room"]
        cls.sim_room = Room.create({"name": "Sim Room 1", "code": "TSIM1", "location": "Building A"})
        cls.debriefing = Room.create({"name": "Debriefing", "code": "TDEBRIEF"})
        cls.employee = new_test_user(cls.env, login="room_employee", groups="base.group_user")
        cls.admin = new_test_user(cls.env, login="room_admin", groups="base.group_user,base.group_system")

    @classmethod
    def book(cls, rooms, start, stop, name="Booking", **values):
        return cls.env["calendar.event"].create(
            {"name": name, "start": start, "stop": stop, "room_ids": [(6, 0, rooms.ids)], **values}
        )


def at(day, hour, minute=0):
    """A UTC datetime on March 2026, which keeps the test data readable."""
    return datetime(2026, 3, day, hour, minute)
