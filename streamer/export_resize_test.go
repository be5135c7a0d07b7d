package streamer

// ScreenUnits is screenUnits, for the check against agent.SessionUnits.
var ScreenUnits = screenUnits
