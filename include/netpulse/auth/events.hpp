// Events about the auth module's records that other modules act on (EventBus, loop thread).
// OrgDeleted is core's (core/tenancy.hpp), since modules below auth act on it.
#pragma once

#include <netpulse/core/tenancy.hpp>

namespace netpulse::auth {

using core::OrgDeleted;

}  // namespace netpulse::auth
