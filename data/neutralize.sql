-- A copy of the database (staging, a test) must not push real bookings to production receivers
-- nor write into the calendars production pushes to.
UPDATE calendar_feed_webhook SET active = false;
UPDATE calendar_feed_push SET active = false;
