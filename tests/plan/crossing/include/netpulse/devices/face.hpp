// Fixture of scripts/check-includes: a face that includes a module above it in the plan.
#pragma once
#include <netpulse/auth/types.hpp>
#include <netpulse/core/tenancy.hpp>
