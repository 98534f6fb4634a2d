// PressroomColor
