// The delivery log: what was sent, where, how each attempt went; dead letters sent again.
#include "detail/notifier_impl.hpp"

namespace netpulse::notify::detail {

core::Result<core::PageOf<Notification>> NotifierImpl::list_notifications(
    core::OrgScope scope, const NotificationFilter& filter, core::Page page) {
  return db_.read(
      [&](db::Connection& c) { return query_notifications(c, scope.org_id(), filter, page); });
}

core::Result<Notification> NotifierImpl::get_notification(core::OrgScope scope, std::int64_t id) {
  return db_.read([&](db::Connection& c) { return query_notification(c, scope.org_id(), id); });
}

void NotifierImpl::retry_notification(core::OrgScope scope, std::int64_t id, Callback<void> done) {
  outbox_->retry_dead(scope, id, std::move(done));
}

}  // namespace netpulse::notify::detail
