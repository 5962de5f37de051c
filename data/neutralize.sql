-- A copy of the database (staging, a test) must not push real bookings to production receivers.
UPDATE calendar_feed_webhook SET active = false;
