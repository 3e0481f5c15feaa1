// Fixture of scripts/check-includes: rooms of another module, beside and on src/.
#include "../api/detail/room.hpp"

#include "api/detail/room.hpp"
#include "detail/own.hpp"
