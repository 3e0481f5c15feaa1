-- 0014: the in-app inbox by user and id. A user's list (all, newest first) and the trim that
-- keeps each user's newest notifications (notify/notifier_people_sql.cpp) walk one user's rows
-- in id order; 0013's inapp_unread index is ordered by read_at first.
CREATE INDEX inapp_by_user ON inapp_notifications (user_id, id);
