// Fixture of scripts/check-includes: a room of devices, included by devices.
#pragma once
